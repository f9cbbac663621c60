import { describe, expect, it } from 'vitest';
import { lineReader } from './ndjson.ts';

describe('lineReader', () => {
  it('parses only whole lines, joining a line split across chunks', () => {
    const reader = lineReader();
    expect(reader.push('{"check":{"id":"a"}}\n{"che')).toEqual([{ check: { id: 'a' } }]);
    expect(reader.push('ck":{"id":"b"}}\n')).toEqual([{ check: { id: 'b' } }]);
    expect(reader.push('{"report":1}\n\n')).toEqual([{ report: 1 }]);
    expect(reader.end()).toEqual([]);
  });

  it('parses a last line that has no newline when the answer ends', () => {
    const reader = lineReader();
    expect(reader.push('{"a":1}\n{"b":')).toEqual([{ a: 1 }]);
    expect(reader.push('2}')).toEqual([]);
    expect(reader.end()).toEqual([{ b: 2 }]);
  });

  it('throws on a line that is not JSON', () => {
    expect(() => lineReader().push('not json\n')).toThrow(SyntaxError);
  });
});
