// Which log format the server picks.
import { describe, expect, it } from 'vitest';
import { wantsJson } from './log.ts';

describe('log format', () => {
  it('is JSON off a terminal or when asked, readable lines on a terminal', () => {
    expect(wantsJson({}, false)).toBe(true);
    expect(wantsJson({}, true)).toBe(false);
    expect(wantsJson({ LOG_FORMAT: 'json' }, true)).toBe(true);
    expect(wantsJson({ LOG_FORMAT: 'pretty' }, false)).toBe(false);
  });
});
