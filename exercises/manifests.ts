// Reads manifest files (YAML or JSON, one or many documents) into Kubernetes objects and answers, naming file and line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, LineCounter, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { ManifestError } from './errors.ts';
import { type AnswerFile, AnswerFileSchema } from './model.ts';

const required = (what: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? `${what} is missing` : `${what} must be a string`),
});
/** The least a document must have to be sent to the API server; everything else is passed through as written. */
export const KubeObjectSchema = z.looseObject({
  apiVersion: z.string(required('apiVersion')).min(1),
  kind: z.string(required('kind')).min(1),
  metadata: z.looseObject(
    { name: z.string(required('metadata.name')).min(1), namespace: z.string().optional() },
    { error: (issue) => (issue.input === undefined ? 'metadata is missing' : 'metadata must be a mapping') },
  ),
});
export type KubeObject = z.infer<typeof KubeObjectSchema>;

/** One object from a manifest, with where it came from. */
export interface ManifestDocument {
  object: KubeObject;
  file: string;
  /** 1-based line where the document starts. */
  line: number;
}

/** A text answer found in a manifest folder. */
export interface AnswerDocument {
  answer: AnswerFile['answer'];
  file: string;
  line: number;
}

/** Everything read from a set of manifest files. */
export interface ParsedManifests {
  objects: ManifestDocument[];
  answers: AnswerDocument[];
}

const MANIFEST_EXTENSIONS = /\.(ya?ml|json)$/i;

/**
 * Aliases one document may expand, as in the `yaml` package's own default: a manifest has few, while a "billion
 * laughs" document (aliases of aliases) would otherwise grow exponentially as it is turned into objects.
 */
export const MAX_ALIAS_COUNT = 100;

function describeIssue(issue: z.core.$ZodIssue): string {
  // Messages of the object schema already name the field ("metadata.name is missing").
  if (/ is missing$| must be /.test(issue.message)) return issue.message;
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/**
 * Parses one file's text. Every document must be a Kubernetes object (a `List` is expanded) or an answer
 * (`answer: …`); anything else throws a `ManifestError` naming the file and the line.
 */
export function parseManifests(text: string, file: string): ParsedManifests {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true });
  const result: ParsedManifests = { objects: [], answers: [] };
  // parseAllDocuments returns an EmptyStream (an array with an `empty` flag) for blank input.
  if (!Array.isArray(docs)) return result;
  for (const doc of docs) {
    const [error] = doc.errors;
    if (error) {
      const line = error.linePos?.[0]?.line ?? 1;
      // The first line of the parser's message, without its own "at line L, column C" (we lead with file:line).
      const detail = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      throw new ManifestError(file, line, `invalid YAML: ${detail}`);
    }
    // An empty document ("---" followed by nothing) has no contents, or a null scalar.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue;
    const start = doc.contents.range?.[0] ?? 0;
    const line = lineCounter.linePos(start).line;
    if (!isMap(doc.contents)) throw new ManifestError(file, line, 'expected a mapping (a Kubernetes object)');
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      // The parser signals an alias bomb with a plain ReferenceError; name it like any other problem in the file.
      if (!(error instanceof ReferenceError)) throw error;
      throw new ManifestError(file, line, `too many aliases (more than ${MAX_ALIAS_COUNT}); refusing to expand them`);
    }
    readDocument(value, file, line, result);
  }
  return result;
}

function readDocument(value: unknown, file: string, line: number, into: ParsedManifests): void {
  const record = value as Record<string, unknown>;
  if ('answer' in record && !('kind' in record)) {
    const parsed = AnswerFileSchema.safeParse(value);
    if (!parsed.success) {
      throw new ManifestError(file, line, `not a valid answer: ${parsed.error.issues.map(describeIssue).join('; ')}`);
    }
    into.answers.push({ answer: parsed.data.answer, file, line });
    return;
  }
  if (record.kind === 'List' && Array.isArray(record.items)) {
    for (const item of record.items) readDocument(item, file, line, into);
    return;
  }
  const parsed = KubeObjectSchema.safeParse(value);
  if (!parsed.success) {
    const detail = parsed.error.issues.map(describeIssue).join('; ');
    throw new ManifestError(file, line, `not a Kubernetes object (${detail})`);
  }
  into.objects.push({ object: parsed.data, file, line });
}

/** Manifest files at `path`: the file itself, or the YAML/JSON files directly inside a folder, sorted by name. */
export function listManifestFiles(path: string): string[] {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch (error) {
    throw new ManifestError(path, 1, `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (!stats.isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => MANIFEST_EXTENSIONS.test(name))
    .sort()
    .map((name) => join(path, name))
    .filter((file) => statSync(file).isFile());
}

/** Reads and parses every manifest file at `path` (a file or a folder). */
export function loadManifests(path: string): ParsedManifests {
  const result: ParsedManifests = { objects: [], answers: [] };
  for (const file of listManifestFiles(path)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ManifestError(file, 1, `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const parsed = parseManifests(text, file);
    result.objects.push(...parsed.objects);
    result.answers.push(...parsed.answers);
  }
  return result;
}
