// The field names the editor completes, from the cluster's own OpenAPI v3 documents: a compact tree of the types the
// kinds learners write reach (Pod, Service, ConfigMap, Secret, workloads of apps/v1 and batch/v1), each field with its
// type and the first paragraph of its description. Fetched once with the server's own client and kept.
import { z } from 'zod';
import type { RestClient } from './rest.ts';

/** One field of a type: its JSON type, the type it holds (an object, or a list's items) and what it is for. */
export interface SchemaField {
  type: 'object' | 'list' | 'map' | 'string' | 'integer' | 'number' | 'boolean' | 'int-or-string' | 'any';
  /** The object type (or a list's item type) whose fields come next. */
  ref?: string;
  description: string;
  enum?: string[];
}

export interface ApiSchema {
  /** `apiVersion/kind` (`v1/Pod`, `apps/v1/Deployment`) to its type's name. */
  kinds: Record<string, string>;
  /** Each reachable type's fields by name. */
  types: Record<string, Record<string, SchemaField>>;
}

/** The kinds learners write, by `apiVersion/kind`, and the OpenAPI v3 document of their group version. */
export const SCHEMA_KINDS: Record<string, { document: string; type: string }> = {
  'v1/Pod': { document: 'api/v1', type: 'io.k8s.api.core.v1.Pod' },
  'v1/Service': { document: 'api/v1', type: 'io.k8s.api.core.v1.Service' },
  'v1/ConfigMap': { document: 'api/v1', type: 'io.k8s.api.core.v1.ConfigMap' },
  'v1/Secret': { document: 'api/v1', type: 'io.k8s.api.core.v1.Secret' },
  'apps/v1/Deployment': { document: 'apis/apps/v1', type: 'io.k8s.api.apps.v1.Deployment' },
  'apps/v1/StatefulSet': { document: 'apis/apps/v1', type: 'io.k8s.api.apps.v1.StatefulSet' },
  'apps/v1/DaemonSet': { document: 'apis/apps/v1', type: 'io.k8s.api.apps.v1.DaemonSet' },
  'batch/v1/Job': { document: 'apis/batch/v1', type: 'io.k8s.api.batch.v1.Job' },
  'batch/v1/CronJob': { document: 'apis/batch/v1', type: 'io.k8s.api.batch.v1.CronJob' },
};

/** An OpenAPI schema as far as the tree needs it; the rest of each document is let through unread. */
type OpenApiSchema = {
  description?: string | undefined;
  type?: string | undefined;
  format?: string | undefined;
  enum?: unknown[] | undefined;
  $ref?: string | undefined;
  allOf?: OpenApiSchema[] | undefined;
  items?: OpenApiSchema | undefined;
  additionalProperties?: unknown;
  properties?: Record<string, OpenApiSchema> | undefined;
};
const openApiSchema: z.ZodType<OpenApiSchema> = z.lazy(() =>
  z.object({
    description: z.string().optional(),
    type: z.string().optional(),
    format: z.string().optional(),
    enum: z.array(z.unknown()).optional(),
    $ref: z.string().optional(),
    allOf: z.array(openApiSchema).optional(),
    items: openApiSchema.optional(),
    additionalProperties: z.unknown().optional(),
    properties: z.record(z.string(), openApiSchema).optional(),
  }),
);
export const openApiDocument = z.object({
  components: z.object({ schemas: z.record(z.string(), openApiSchema) }),
});

const REF_PREFIX = '#/components/schemas/';
const MAX_DESCRIPTION = 300;

/** The first paragraph, cut at a sentence end near MAX_DESCRIPTION: enough for a completion's info box. */
export function shortDescription(text: string | undefined): string {
  const paragraph = (text ?? '').split(/\n\s*\n/)[0]?.trim() ?? '';
  if (paragraph.length <= MAX_DESCRIPTION) return paragraph;
  const cut = paragraph.slice(0, MAX_DESCRIPTION);
  const sentence = cut.lastIndexOf('. ');
  return sentence > 80 ? cut.slice(0, sentence + 1) : `${cut.trimEnd()}…`;
}

/** The type a schema refers to, directly or through the `allOf: [{$ref}]` wrapper the API server writes. */
function refOf(schema: OpenApiSchema | undefined): string | undefined {
  const ref = schema?.$ref ?? schema?.allOf?.find((s) => s.$ref)?.$ref;
  return ref?.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : undefined;
}

const SCALARS = new Set(['string', 'integer', 'number', 'boolean']);

/**
 * The compact tree for `kinds` from OpenAPI documents (merged: each document holds every type its group version
 * uses). A referenced type without properties (Quantity, Time, IntOrString) is a scalar, not a step.
 */
export function compactSchema(
  documents: Array<z.infer<typeof openApiDocument>>,
  kinds: Record<string, string>,
): ApiSchema {
  const all: Record<string, OpenApiSchema> = {};
  for (const doc of documents) Object.assign(all, doc.components.schemas);
  const types: ApiSchema['types'] = {};
  const scalar = (schema: OpenApiSchema | undefined): SchemaField['type'] => {
    if (schema?.format === 'int-or-string') return 'int-or-string';
    return schema?.type && SCALARS.has(schema.type) ? (schema.type as SchemaField['type']) : 'any';
  };
  /** A field's shape: an object type to step into, a list of one, a map, or a scalar. */
  const shape = (schema: OpenApiSchema): Pick<SchemaField, 'type' | 'ref'> => {
    const ref = refOf(schema);
    if (ref) return all[ref]?.properties ? { type: 'object', ref } : { type: scalar(all[ref]) };
    if (schema.type === 'array') {
      const item = refOf(schema.items);
      return item && all[item]?.properties ? { type: 'list', ref: item } : { type: 'list' };
    }
    if (schema.type === 'object' || schema.additionalProperties !== undefined) return { type: 'map' };
    return { type: scalar(schema) };
  };
  const visit = (name: string) => {
    if (types[name]) return;
    const fields: Record<string, SchemaField> = {};
    types[name] = fields;
    for (const [field, schema] of Object.entries(all[name]?.properties ?? {})) {
      // What the server writes back is no field to complete.
      if (field === 'status') continue;
      const values = schema.enum?.filter((v): v is string => typeof v === 'string');
      const made: SchemaField = { ...shape(schema), description: shortDescription(schema.description) };
      if (values && values.length > 0) made.enum = values;
      fields[field] = made;
      if (made.ref) visit(made.ref);
    }
  };
  const found: Record<string, string> = {};
  for (const [kind, type] of Object.entries(kinds)) {
    if (!all[type]?.properties) continue;
    found[kind] = type;
    visit(type);
  }
  return { kinds: found, types };
}

/** The tree for SCHEMA_KINDS, fetched on first use with `rest` and kept; a failed fetch is tried again next time. */
export function apiSchemaSource(rest: RestClient): () => Promise<ApiSchema> {
  let pending: Promise<ApiSchema> | undefined;
  const load = async () => {
    const paths = [...new Set(Object.values(SCHEMA_KINDS).map((k) => k.document))];
    const documents = await Promise.all(
      paths.map(async (path) =>
        openApiDocument.parse(await rest.json({ path: `/openapi/v3/${path}`, timeoutMs: 30_000 })),
      ),
    );
    return compactSchema(
      documents,
      Object.fromEntries(Object.entries(SCHEMA_KINDS).map(([kind, { type }]) => [kind, type])),
    );
  };
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
