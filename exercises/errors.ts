// Errors that cross the boundary between checks and the cluster adapter, so the runner can tell "no answer" from "no".

/**
 * The cluster did not answer, answered with a server error, or refused the checker's own identity. The runner turns
 * it into status `error` ("cluster unavailable: …"), never into a failed check.
 */
export class ClusterUnavailableError extends Error {
  override name = 'ClusterUnavailableError';
}

/** A manifest that cannot be read: bad YAML, or a document that is not a Kubernetes object. Names file and line. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, detail: string) {
    super(`${file}:${line}: ${detail}`);
    this.file = file;
    this.line = line;
  }
}
