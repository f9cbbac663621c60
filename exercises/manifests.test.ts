// Manifest files parse into objects and answers; anything unreadable is refused with its file and line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestError } from './errors.ts';
import { loadManifests, parseManifests } from './manifests.ts';

const pod = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers: []\n`;

function refusal(text: string): ManifestError {
  try {
    parseManifests(text, 'work/pod.yaml');
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error('expected a ManifestError');
}

describe('parseManifests', () => {
  it('reads every document with the line it starts on, skipping empty ones', () => {
    const text = `# comment\n${pod('a')}---\n---\n${pod('b')}`;
    const { objects, answers } = parseManifests(text, 'work/pods.yaml');
    expect(objects.map((d) => [d.object.metadata.name, d.line])).toEqual([
      ['a', 2],
      ['b', 10],
    ]);
    expect(objects[0]?.file).toBe('work/pods.yaml');
    expect(answers).toEqual([]);
  });

  it('expands a List', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }],
    };
    expect(parseManifests(JSON.stringify(list), 'list.json').objects.map((d) => d.object.kind)).toEqual(['Pod']);
  });

  it('reads text answers', () => {
    const { answers } = parseManifests('answer: "1a2b3c4d"\n', 'a.yaml');
    expect(answers).toEqual([{ answer: '1a2b3c4d', file: 'a.yaml', line: 1 }]);
  });

  it('refuses an answer that asks the grader to look it up, so nothing from a submission is evaluated', () => {
    const lookup = 'answer:\n  fromLogs: {pod: p, container: c, pattern: "(a+)+$"}\n';
    expect(() => parseManifests(lookup, 'a.yaml')).toThrow(
      'a.yaml:1: not a valid answer: answer: the answer is the text you found, e.g. answer: "1a2b3c4d"; the grader does not look it up for you',
    );
  });

  it('names the file and line of broken YAML', () => {
    const error = refusal(`${pod('a')}---\nkind: Pod\nmetadata:\n  name: [oops\n`);
    expect(error.file).toBe('work/pod.yaml');
    expect(error.line).toBeGreaterThanOrEqual(10);
    expect(error.message).toMatch(/^work\/pod\.yaml:\d+: invalid YAML: /);
  });

  it('names what is missing from a document that is not a Kubernetes object', () => {
    expect(refusal('apiVersion: v1\nkind: Pod\n').message).toBe(
      'work/pod.yaml:1: not a Kubernetes object (metadata is missing)',
    );
    expect(refusal(`${pod('a')}---\n\nkind: Pod\nmetadata: {name: b}\n`).message).toBe(
      'work/pod.yaml:9: not a Kubernetes object (apiVersion is missing)',
    );
    expect(refusal('- just\n- a list\n').message).toBe('work/pod.yaml:1: expected a mapping (a Kubernetes object)');
    expect(refusal('answer: {guess: 1}\n').message).toMatch(/^work\/pod\.yaml:1: not a valid answer/);
  });

  it('refuses a "billion laughs" alias bomb with a message naming it, before expanding it (WEB-6)', () => {
    // Nine levels of nine aliases each: 9^9 (387 million) strings once expanded.
    const levels = ['  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (const name of 'bcdefghi') {
      const previous = String.fromCharCode(name.charCodeAt(0) - 1);
      levels.push(`  ${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    }
    const bomb = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: laughs}\ndata:\n${levels.join('\n')}\n`;
    const error = refusal(`${pod('a')}---\n${bomb}`);
    expect(error.message).toBe('work/pod.yaml:8: too many aliases (more than 100); refusing to expand them');
    // A manifest that reuses a block a few times (anchors are legitimate YAML) still parses.
    const reuse = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\ndata:\n  a: &x hello\n  b: *x\n  c: *x\n`;
    expect(parseManifests(reuse, 'ok.yaml').objects[0]?.object).toMatchObject({ data: { a: 'hello', b: 'hello' } });
  });

  it('accepts an empty file', () => {
    expect(parseManifests('', 'empty.yaml')).toEqual({ objects: [], answers: [] });
    expect(parseManifests('# nothing yet\n', 'empty.yaml')).toEqual({ objects: [], answers: [] });
  });
});

describe('loadManifests', () => {
  it('reads the YAML and JSON files of a folder in name order, ignoring other files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
    writeFileSync(join(dir, 'b.yaml'), pod('b'));
    writeFileSync(join(dir, 'a.yml'), pod('a'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'c' } }));
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    expect(loadManifests(dir).objects.map((d) => d.object.metadata.name)).toEqual(['a', 'b', 'c']);
    expect(loadManifests(join(dir, 'b.yaml')).objects).toHaveLength(1);
  });

  it('refuses a path that does not exist', () => {
    expect(() => loadManifests('/no/such/place')).toThrow(/\/no\/such\/place:1: cannot read: ENOENT/);
  });
});
