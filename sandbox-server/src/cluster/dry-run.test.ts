// The API server's messages, read into field paths: the three shapes it writes them in.
import { describe, expect, it } from 'vitest';
import { fieldPath, problems } from './dry-run.ts';

describe('fieldPath', () => {
  it('reads dotted paths, indices and server-side apply item keys', () => {
    expect(fieldPath('.spec.containers[0].image')).toEqual(['spec', 'containers', 0, 'image']);
    expect(fieldPath('spec.image')).toEqual(['spec', 'image']);
    expect(fieldPath('.spec.containers[name="nginx"].ports[containerPort="80",protocol="TCP"].containerPort')).toEqual([
      'spec',
      'containers',
      { name: 'nginx' },
      'ports',
      { containerPort: '80', protocol: 'TCP' },
      'containerPort',
    ]);
  });
});

describe('problems', () => {
  it('splits a strict decoding error into one problem per unknown field', () => {
    const message =
      'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.image", unknown field "spec.restartpolicy"';
    expect(problems(message)).toEqual([
      { path: ['spec', 'image'], text: 'unknown field "spec.image"' },
      { path: ['spec', 'restartpolicy'], text: 'unknown field "spec.restartpolicy"' },
    ]);
  });

  it('reads a wrong type from Go decoding and from server-side apply', () => {
    expect(
      problems(
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32',
      ),
    ).toEqual([
      {
        path: ['spec', 'containers', 'ports', 'containerPort'],
        text: 'spec.containers.ports.containerPort: expected int32, got string',
      },
    ]);
    const applied = problems(
      'failed to create typed patch object (ns/web; /v1, Kind=Pod): errors:\n  .spec.image: field not declared in schema\n  .spec.containers[name="a"].tty: expected boolean, got string',
    );
    expect(applied.map((p) => p.text)).toEqual([
      '.spec.image: field not declared in schema',
      '.spec.containers[name="a"].tty: expected boolean, got string',
    ]);
  });

  it('keeps a message that names no field whole', () => {
    expect(problems('pods "web" is forbidden: exceeded quota')).toEqual([
      { path: [], text: 'pods "web" is forbidden: exceeded quota' },
    ]);
  });
});
