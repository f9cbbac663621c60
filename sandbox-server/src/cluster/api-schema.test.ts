// The compact field tree from OpenAPI documents shaped like the API server's: references through allOf, lists of
// objects, maps, scalars behind a reference, and types split across two group versions' documents.
import { describe, expect, it } from 'vitest';
import { compactSchema, openApiDocument, shortDescription } from './api-schema.ts';

const ref = (name: string) => ({ allOf: [{ $ref: `#/components/schemas/${name}` }] });
const core = openApiDocument.parse({
  components: {
    schemas: {
      Pod: { properties: { metadata: ref('Meta'), spec: ref('PodSpec'), status: ref('PodStatus') } },
      Meta: { properties: { labels: { type: 'object', additionalProperties: { type: 'string' } } } },
      PodSpec: {
        properties: {
          containers: { description: 'The containers.', type: 'array', items: ref('Container') },
          restartPolicy: { type: 'string', enum: ['Always', 'Never'], description: 'Restart policy.\n\nPossible…' },
        },
      },
      PodStatus: { properties: { phase: { type: 'string' } } },
      Container: {
        properties: {
          name: { type: 'string' },
          args: { type: 'array', items: { type: 'string' } },
          port: ref('IntOrString'),
          memory: ref('Quantity'),
          container: ref('Container'),
        },
      },
      IntOrString: { format: 'int-or-string' },
      Quantity: { type: 'string' },
    },
  },
});
const apps = openApiDocument.parse({
  components: { schemas: { Deployment: { properties: { spec: ref('DeploymentSpec') } }, DeploymentSpec: {} } },
});

describe('compactSchema', () => {
  const schema = compactSchema([core, apps], { 'v1/Pod': 'Pod', 'apps/v1/Deployment': 'Deployment', 'v1/X': 'X' });

  it('keeps the kinds whose type is there, and every type they reach, without status', () => {
    expect(schema.kinds).toEqual({ 'v1/Pod': 'Pod', 'apps/v1/Deployment': 'Deployment' });
    expect(Object.keys(schema.types).sort()).toEqual(['Container', 'Deployment', 'Meta', 'Pod', 'PodSpec']);
    expect(Object.keys(schema.types.Pod ?? {})).toEqual(['metadata', 'spec']);
  });

  it('names lists of objects, maps, scalars behind a reference, enums and recursive types', () => {
    expect(schema.types.PodSpec?.containers).toEqual({
      type: 'list',
      ref: 'Container',
      description: 'The containers.',
    });
    expect(schema.types.PodSpec?.restartPolicy).toEqual({
      type: 'string',
      description: 'Restart policy.',
      enum: ['Always', 'Never'],
    });
    expect(schema.types.Meta?.labels?.type).toBe('map');
    const container = schema.types.Container ?? {};
    expect([container.args?.type, container.port?.type, container.memory?.type]).toEqual([
      'list',
      'int-or-string',
      'string',
    ]);
    expect(container.container).toMatchObject({ type: 'object', ref: 'Container' });
    // A type without fields (DeploymentSpec here) is a scalar, not a step into nothing.
    expect(schema.types.Deployment?.spec?.type).toBe('any');
  });
});

describe('shortDescription', () => {
  it('keeps the first paragraph, cut at a sentence when long', () => {
    expect(shortDescription('One.\n\nTwo.')).toBe('One.');
    expect(shortDescription(undefined)).toBe('');
    const long = `${'A sentence that says something. '.repeat(12)}End`;
    const short = shortDescription(long);
    expect(short.endsWith('something.')).toBe(true);
    expect(short.length).toBeLessThanOrEqual(300);
  });
});
