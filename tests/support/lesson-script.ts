// Reads a lesson (MDX) as the learner meets it: the files its <CreateFile>s write, the commands its <Run>s type and
// the exercises its <Check>s show, in page order, each Run with the promise it declares (site/content/run-self-test.ts).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type RunSelfTest, runSelfTestSchema } from '../../site/content/run-self-test.ts';

export type LessonStep =
  | { kind: 'file'; path: string; content: string }
  | { kind: 'check'; line: number; exercise: string }
  | ({ kind: 'run'; line: number } & RunSelfTest);

// JSX attribute strings keep HTML entities (the lessons write `&quot;` for a double quote inside a command).
const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'", '#123': '{', '#125': '}' };
const decode = (text: string) =>
  text.replace(/&(quot|amp|lt|gt|apos|#123|#125);/g, (_, name: string) => ENTITIES[name]!);

/** The attributes of one self-closing tag: strings, `{number}`, `{true|false}`, `{identifier}` and bare flags. */
export function parseAttributes(source: string): Record<string, string | number | boolean | { identifier: string }> {
  const attributes: Record<string, string | number | boolean | { identifier: string }> = {};
  for (const match of source.matchAll(/([A-Za-z]+)(?:="([^"]*)"|=\{([^}]*)\})?/g)) {
    const [, name, text, expression] = match;
    if (text !== undefined) attributes[name!] = decode(text);
    else if (expression === undefined) attributes[name!] = true;
    else if (/^\d+$/.test(expression.trim())) attributes[name!] = Number(expression);
    else if (/^(true|false)$/.test(expression.trim())) attributes[name!] = expression.trim() === 'true';
    else attributes[name!] = { identifier: expression.trim() };
  }
  return attributes;
}

/** The steps of one lesson file; `readImport` resolves `import x from './…?raw'` (the real files by default). */
export function lessonSteps(
  source: string,
  file: string,
  readImport = (path: string) => readFileSync(join(dirname(file), path), 'utf8'),
): LessonStep[] {
  const imports = new Map<string, string>();
  for (const [, name, path] of source.matchAll(/^import (\w+) from '([^']+)\?raw';$/gm)) imports.set(name!, path!);
  const steps: LessonStep[] = [];
  for (const tag of source.matchAll(/<(Run|CreateFile|Check)\s((?:[^"{>]|"[^"]*"|\{[^}]*\})*?)\/>/g)) {
    const [, component, body] = tag;
    const attributes = parseAttributes(body!);
    const line = source.slice(0, tag.index).split('\n').length;
    if (component === 'Check') {
      const { exercise } = attributes;
      if (typeof exercise !== 'string') throw new Error(`${file}:${line}: <Check> needs exercise="…"`);
      steps.push({ kind: 'check', line, exercise });
      continue;
    }
    if (component === 'CreateFile') {
      const { path, content } = attributes;
      const imported = typeof content === 'object' ? imports.get(content.identifier) : undefined;
      if (typeof path !== 'string' || !imported) {
        throw new Error(`${file}:${line}: <CreateFile> needs path="…" and content={a ?raw import}`);
      }
      steps.push({ kind: 'file', path, content: readImport(imported) });
      continue;
    }
    const parsed = runSelfTestSchema.safeParse(attributes);
    if (!parsed.success) {
      throw new Error(`${file}:${line}: <Run>: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    }
    steps.push({ kind: 'run', line, ...parsed.data });
  }
  return steps;
}
