// The key path at the cursor in half-written YAML, the document's kind, and the fields the schema offers there.
import { describe, expect, it } from 'vitest';
import type { ApiSchema } from '../../sandbox-server/src/cluster/api-schema.ts';
import { documentKind, fieldsAt, indentAfter, keyPathAt, LIST_ITEM, siblingKeys, valueAt } from './yaml-fields.ts';

/** The path at the `|` of `text`. */
function pathAt(text: string): string[] | undefined {
  const lines = text.split('\n');
  const row = lines.findIndex((l) => l.includes('|'));
  return keyPathAt(
    lines.map((l) => l.replace('|', '')),
    row,
    lines[row]?.indexOf('|') ?? 0,
  );
}

describe('keyPathAt', () => {
  it('finds the path by indentation, lists at the same indentation as their key included', () => {
    expect(pathAt('apiVersion: v1\nkind: Pod\n|')).toEqual([]);
    expect(pathAt('spec:\n  containers:\n  - name: x\n    ima|')).toEqual(['spec', 'containers', LIST_ITEM]);
    expect(pathAt('spec:\n  containers:\n    - name: x\n      |')).toEqual(['spec', 'containers', LIST_ITEM]);
    expect(pathAt('spec:\n  containers:\n  - name: x\n    image: y\n  rest|')).toEqual(['spec']);
    expect(pathAt('spec:\n  containers:\n  - na|')).toEqual(['spec', 'containers', LIST_ITEM]);
  });

  it('goes through nested lists and skips blank lines and comments', () => {
    const text =
      'spec:\n  containers:\n  - name: x\n    ports:\n\n    # the web port\n    - containerPort: 80\n      pro|';
    expect(pathAt(text)).toEqual(['spec', 'containers', LIST_ITEM, 'ports', LIST_ITEM]);
    expect(pathAt('a:\n- - b: 1\n    c|')).toEqual(['a', LIST_ITEM, LIST_ITEM]);
  });

  it('stops at a document separator, and offers nothing in a value', () => {
    expect(pathAt('spec:\n  x: 1\n---\n|')).toEqual([]);
    expect(pathAt('spec:\n  restartPolicy: Ne|')).toBeUndefined();
    expect(pathAt('spec:\n  args: ["a|')).toBeUndefined();
  });
});

describe('valueAt', () => {
  it('names the key whose value is typed, with its mapping path and where the value starts', () => {
    const lines = ['spec:', '  containers:', '  - name: x', '    imagePullPolicy: Al', '  restartPolicy: '];
    expect(valueAt(lines, 3, 23)).toEqual({
      path: ['spec', 'containers', LIST_ITEM],
      key: 'imagePullPolicy',
      from: 21,
    });
    expect(valueAt(lines, 4, 17)).toEqual({ path: ['spec'], key: 'restartPolicy', from: 17 });
    expect(valueAt(lines, 2, 8)).toBeUndefined(); // `- name` is still the key
    expect(valueAt(['  args: ["a'], 0, 11)).toBeUndefined();
  });
});

describe('siblingKeys', () => {
  const lines = [
    'spec:',
    '  containers:',
    '  - name: a',
    '    image: x',
    '    ports:',
    '    - containerPort: 80',
    '    ',
    '  - name: b',
    '    im',
    '  - image: c',
    '  restartPolicy: Never',
  ];

  it("keeps to the cursor's own mapping: its list item, or its object", () => {
    expect([...siblingKeys(lines, 6, 4)].sort()).toEqual(['image', 'name', 'ports']);
    expect([...siblingKeys(['- image: a', '  ', '- name: b'], 1, 2)]).toEqual(['image']);
    expect([...siblingKeys(lines, 8, 4)]).toEqual(['name']);
    expect([...siblingKeys(lines, 10, 2)]).toEqual(['containers']);
    expect([...siblingKeys(['spec:', '  containers:', '  - ', '    image: x'], 2, 4)]).toEqual(['image']);
  });
});

describe('documentKind', () => {
  it("reads the top-level apiVersion and kind of the cursor's document", () => {
    const lines = ['apiVersion: v1', 'kind: Pod', '---', 'apiVersion: apps/v1', "kind: 'Deployment'", 'spec:'];
    expect(documentKind(lines, 1)).toBe('v1/Pod');
    expect(documentKind(lines, 5)).toBe('apps/v1/Deployment');
    expect(documentKind(['kind: Pod'], 0)).toBeUndefined();
  });
});

describe('fieldsAt', () => {
  const field = (type: 'object' | 'list' | 'string', ref?: string) => ({
    type,
    description: '',
    ...(ref ? { ref } : {}),
  });
  const schema: ApiSchema = {
    kinds: { 'v1/Pod': 'Pod' },
    types: {
      Pod: { spec: field('object', 'PodSpec'), kind: field('string') },
      PodSpec: { containers: field('list', 'Container'), restartPolicy: field('string') },
      Container: { name: field('string'), image: field('string') },
    },
  };

  it('steps through objects and list items', () => {
    expect(Object.keys(fieldsAt(schema, 'v1/Pod', []) ?? {})).toEqual(['spec', 'kind']);
    expect(Object.keys(fieldsAt(schema, 'v1/Pod', ['spec']) ?? {})).toEqual(['containers', 'restartPolicy']);
    expect(Object.keys(fieldsAt(schema, 'v1/Pod', ['spec', 'containers', LIST_ITEM]) ?? {})).toEqual(['name', 'image']);
  });

  it('knows nothing of unknown kinds, unknown fields, scalars, or a list without its item', () => {
    expect(fieldsAt(schema, 'v1/Nope', [])).toBeUndefined();
    expect(fieldsAt(schema, 'v1/Pod', ['spec', 'nope'])).toBeUndefined();
    expect(fieldsAt(schema, 'v1/Pod', ['kind'])).toBeUndefined();
    expect(fieldsAt(schema, 'v1/Pod', ['spec', 'containers'])).toBeUndefined();
    expect(fieldsAt(schema, 'v1/Pod', ['spec', LIST_ITEM])).toBeUndefined();
  });
});

describe('indentAfter', () => {
  it('goes in after a key that opens something, and stays with the key otherwise', () => {
    expect(indentAfter('spec:')).toBe(2);
    expect(indentAfter('  - name: nginx')).toBe(4);
    expect(indentAfter('  - name:  # the container')).toBe(6);
    expect(indentAfter('    args: |')).toBe(6);
    expect(indentAfter('  containers:')).toBe(4);
    expect(indentAfter('  - ')).toBe(4);
    expect(indentAfter('    image: nginx:1.26')).toBe(4);
    expect(indentAfter('   ')).toBeUndefined();
  });
});
