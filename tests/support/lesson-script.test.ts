// The lesson reader: what the self-test will type, write and expect, read from MDX the way the page shows it.
import { describe, expect, it } from 'vitest';
import { expectationMatcher } from '../../site/content/run-self-test.ts';
import { lessonSteps } from './lesson-script.ts';

const lesson = `import pod from './manifests/pod.yaml?raw';

<CreateFile path="pod.yaml" content={pod} />

<Run command="kubectl apply -f pod.yaml" expect="pod/x created" />

<Run command="kubectl get pod x -o jsonpath='{range .status.containerStatuses[*]}{.name}{&quot;\\n&quot;}{end}'" expect="/^main$/m" within={30} />

<Run command="kubectl get pod nope" fails expect="NotFound" />

<Run command="kubectl logs -f x" selfTest="skip: follows logs forever" />

<Check exercise="first-sidecar" level={3} />
`;

describe('lessonSteps', () => {
  const steps = lessonSteps(lesson, 'lessons/x.mdx', (path) => `read ${path}`);

  it('writes the imported file, then runs each command in page order with its promise, and finds the exercise', () => {
    expect(steps).toEqual([
      { kind: 'file', path: 'pod.yaml', content: 'read ./manifests/pod.yaml' },
      { kind: 'run', line: 5, command: 'kubectl apply -f pod.yaml', expect: 'pod/x created' },
      {
        kind: 'run',
        line: 7,
        command: `kubectl get pod x -o jsonpath='{range .status.containerStatuses[*]}{.name}{"\\n"}{end}'`,
        expect: '/^main$/m',
        within: 30,
      },
      { kind: 'run', line: 9, command: 'kubectl get pod nope', fails: true, expect: 'NotFound' },
      { kind: 'run', line: 11, command: 'kubectl logs -f x', selfTest: 'skip: follows logs forever' },
      { kind: 'check', line: 13, exercise: 'first-sidecar' },
    ]);
  });

  it('refuses a command that follows output without a reason to skip it', () => {
    expect(() => lessonSteps('<Run command="kubectl get pod x -w" />', 'lessons/y.mdx')).toThrow(
      /lessons\/y\.mdx:1: <Run>: .*selfTest="skip: <the reason>"/,
    );
  });

  it('refuses a skip without a reason and a CreateFile without an import', () => {
    expect(() => lessonSteps('<Run command="ls" selfTest="skip" />', 'a.mdx')).toThrow(/skip: <the reason>/);
    expect(() => lessonSteps('<CreateFile path="a.yaml" content={nothing} />', 'a.mdx')).toThrow(/\?raw import/);
  });

  it('refuses a skipped command that still promises something, and a /regex/ that does not compile', () => {
    expect(() => lessonSteps('<Run command="ls" selfTest="skip: why" expect="x" />', 'a.mdx')).toThrow(
      /promises nothing/,
    );
    expect(() => lessonSteps('<Run command="ls" expect="/(/" />', 'a.mdx')).toThrow(/does not compile/);
  });
});

describe('expectationMatcher', () => {
  it('reads /…/flags as a regular expression and anything else as a substring', () => {
    expect(expectationMatcher('/^a.c$/m')('x\nabc\n')).toBe(true);
    expect(expectationMatcher('a.c')('abc')).toBe(false);
    expect(expectationMatcher('a.c')('xa.cx')).toBe(true);
  });
});
