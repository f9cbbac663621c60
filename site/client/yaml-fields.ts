// Which fields fit where the learner is typing a YAML key: the key's path from the lines above (by indentation, so
// it works on the half-written file a parser would refuse), the document's kind, and the cluster's field tree.
import type { ApiSchema, SchemaField } from '../../sandbox-server/src/cluster/api-schema.ts';

/** A path of keys; LIST_ITEM stands for an item of a list (`- `). */
export const LIST_ITEM = '[]';

/** A line's parts that open something: each `- ` and a `key:`, with their columns. */
function openers(line: string): Array<{ column: number; key?: string }> {
  const found: Array<{ column: number; key?: string }> = [];
  const lead = /^( *)((?:- +)*)/.exec(line);
  let column = lead?.[1]?.length ?? 0;
  for (const dash of (lead?.[2] ?? '').match(/- +/g) ?? []) {
    found.push({ column });
    column += dash.length;
  }
  const key = /^([^\s:#'"[\]{}][^:#]*?)\s*:(?:\s|$)/.exec(line.slice(column));
  if (key?.[1]) found.push({ column, key: key[1] });
  return found;
}

/**
 * The path of the key being typed at `column` of `lines[row]` (`['spec', 'containers', '[]']` for a key in a
 * container), or undefined when the cursor is not where a key goes (in a value, a comment, a flow collection).
 */
export function keyPathAt(lines: readonly string[], row: number, column: number): string[] | undefined {
  const before = (lines[row] ?? '').slice(0, column);
  const typing = /^( *)((?:- +)*)([A-Za-z0-9_.-]*)$/.exec(before);
  if (!typing) return undefined;
  const path: string[] = [];
  // What holds a key at `limit` lies left of it; a list's `- ` may stand at its key's own column, so after a dash at
  // column d the holder may be at d, and other dashes at d are the list's other items.
  let limit = (typing[1]?.length ?? 0) + (typing[2]?.length ?? 0);
  let dashAt: number | undefined;
  const climb = (found: Array<{ column: number; key?: string }>) => {
    for (const opener of found.reverse()) {
      if (opener.column >= limit || (opener.key === undefined && opener.column === dashAt)) continue;
      path.unshift(opener.key ?? LIST_ITEM);
      limit = opener.key === undefined ? opener.column + 1 : opener.column;
      dashAt = opener.key === undefined ? opener.column : undefined;
    }
  };
  // The line's own dashes: the key starts an item of each list they open.
  climb(openers(`${typing[1]}${typing[2]}`));
  for (let r = row - 1; r >= 0 && limit > 0; r--) {
    const line = lines[r] ?? '';
    if (/^(---|\.\.\.)(\s|$)/.test(line)) break;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    if (indent >= limit) continue; // deeper, or a sibling
    climb(openers(line));
  }
  return path;
}

/** `apiVersion/kind` of the YAML document holding `row` (its top-level `apiVersion:` and `kind:`). */
export function documentKind(lines: readonly string[], row: number): string | undefined {
  const separator = (line: string) => /^---(\s|$)/.test(line);
  let start = row;
  while (start > 0 && !separator(lines[start] ?? '')) start--;
  let end = row + 1;
  while (end < lines.length && !separator(lines[end] ?? '')) end++;
  let apiVersion: string | undefined;
  let kind: string | undefined;
  for (const line of lines.slice(start, end)) {
    const top = /^(apiVersion|kind):\s*['"]?([^'"\s#]+)/.exec(line);
    if (top?.[1] === 'apiVersion') apiVersion = top[2];
    if (top?.[1] === 'kind') kind = top[2];
  }
  return apiVersion && kind ? `${apiVersion}/${kind}` : undefined;
}

/** The fields a mapping at `path` of a `kind` object may hold, or undefined when the schema does not say. */
export function fieldsAt(
  schema: ApiSchema,
  kind: string,
  path: readonly string[],
): Record<string, SchemaField> | undefined {
  let type = schema.kinds[kind];
  let pendingList = false;
  for (const step of path) {
    const fields = type === undefined ? undefined : schema.types[type];
    if (!fields) return undefined;
    if (step === LIST_ITEM) {
      if (!pendingList) return undefined;
      pendingList = false;
      continue;
    }
    if (pendingList) return undefined; // a list's item must come first
    const field = fields[step];
    if (!field?.ref || (field.type !== 'object' && field.type !== 'list')) return undefined;
    type = field.ref;
    pendingList = field.type === 'list';
  }
  return pendingList || type === undefined ? undefined : schema.types[type];
}

/**
 * The indentation of a new line typed after `line`: inside a key that opens a mapping, list or block text, two more
 * than the key; otherwise at the column of the line's key, after any `- `. Undefined for a blank line.
 */
export function indentAfter(line: string): number | undefined {
  const parts = /^( *)((?:- +)*)(.*)$/.exec(line);
  const column = (parts?.[1]?.length ?? 0) + (parts?.[2]?.length ?? 0);
  const content = (parts?.[3] ?? '').replace(/\s+#.*$/, '').trimEnd();
  if (content === '') return parts?.[2] ? column : undefined;
  return /:$|:\s+[|>][-+]?$/.test(content) ? column + 2 : column;
}

/**
 * The key whose value is being typed at the cursor (`restartPolicy: Ne|`): the key, the path of the mapping that
 * holds it, and where the value starts. Undefined anywhere else.
 */
export function valueAt(
  lines: readonly string[],
  row: number,
  column: number,
): { path: string[]; key: string; from: number } | undefined {
  const before = (lines[row] ?? '').slice(0, column);
  const typing = /^( *(?:- +)*)([A-Za-z0-9_.-]+): +([A-Za-z0-9_.-]*)$/.exec(before);
  if (!typing) return undefined;
  const path = keyPathAt(lines, row, typing[1]?.length ?? 0);
  const value = typing[3] ?? '';
  return path && typing[2] ? { path, key: typing[2], from: column - value.length } : undefined;
}

/** The keys already set in the mapping that holds a key at `column` of `lines[row]` (the line itself left out). */
export function siblingKeys(lines: readonly string[], row: number, column: number): Set<string> {
  const keys = new Set<string>();
  /** A line's key at `column`, whether it starts a list item holding that column, and whether it is in the mapping. */
  const read = (line: string) => {
    const found = openers(line);
    const key = found.find((o) => o.key !== undefined && o.column === column)?.key;
    // A list may stand at its key's own column: its items are inside too.
    const listHere = found.some((o) => o.key === undefined && o.column === column);
    const indent = line.length - line.trimStart().length;
    return {
      key,
      startsItem: found.some((o) => o.key === undefined && o.column < column),
      inside: key !== undefined || listHere || indent > column,
    };
  };
  const rows = (step: -1 | 1) => {
    const found: Array<ReturnType<typeof read>> = [];
    for (let r = row + step; r >= 0 && r < lines.length; r += step) {
      const line = lines[r] ?? '';
      if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
      found.push(read(line));
    }
    return found;
  };
  // Upwards the mapping ends after the line that starts its item; downwards before the next item's.
  if (!/^ *- /.test(lines[row] ?? '')) {
    for (const line of rows(-1)) {
      if (!line.inside) break;
      if (line.key) keys.add(line.key);
      if (line.startsItem) break;
    }
  }
  for (const line of rows(1)) {
    if (!line.inside || line.startsItem) break;
    if (line.key) keys.add(line.key);
  }
  return keys;
}
