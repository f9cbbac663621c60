// NDJSON as it arrives: text comes in chunks that may end mid-line; only whole lines are parsed.

/** Feed it chunks; it returns the JSON of each line the chunks completed. `end()` parses a last line with no newline. */
export function lineReader() {
  let pending = '';
  const parse = (lines: string[]) => lines.filter((line) => line.trim()).map((line) => JSON.parse(line) as unknown);
  return {
    push(chunk: string): unknown[] {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      return parse(lines);
    },
    end(): unknown[] {
      const last = pending;
      pending = '';
      return parse([last]);
    },
  };
}
