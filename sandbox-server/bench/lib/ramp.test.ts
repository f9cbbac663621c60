// The capacity ramp's stop conditions, step sizes and the sizing table, without a cluster.
import { describe, expect, it } from 'vitest';
import { capacityOf, nextStepSize, nodeFor, type StepOutcome, sizingTable, stopAfter } from './ramp.ts';

const step = (learners: number, over: Partial<StepOutcome> = {}): StepOutcome => ({
  learners,
  echoP95Ms: 20,
  sandboxFailures: 0,
  podsNotReady: 0,
  ...over,
});

describe('stopAfter', () => {
  it('goes on while every limit holds, 100 ms included', () => {
    expect(stopAfter(step(5))).toBeUndefined();
    expect(stopAfter(step(5, { echoP95Ms: 100 }))).toBeUndefined();
  });

  it('stops when echo p95 passes 100 ms, or a key got no echo at all', () => {
    expect(stopAfter(step(30, { echoP95Ms: 101 }))).toEqual({
      kind: 'echo',
      message: 'echo p95 101 ms > 100 ms at 30',
    });
    expect(stopAfter(step(30, { echoP95Ms: Number.POSITIVE_INFINITY }))?.message).toBe(
      'echo p95 a lost key > 100 ms at 30',
    );
    expect(stopAfter(step(30, { echoP95Ms: Number.NaN }))?.kind).toBe('echo');
  });

  it('stops when a sandbox fails to become ready, before judging the echo', () => {
    expect(stopAfter(step(10, { sandboxFailures: 1, echoP95Ms: 500 }))?.kind).toBe('sandbox');
  });

  it('stops when the node has no room for a seed Pod', () => {
    expect(stopAfter(step(40, { podsNotReady: 2 }))).toEqual({
      kind: 'pods',
      message: '2 seed Pod(s) not Ready at 40: the node is full',
    });
  });
});

describe('nextStepSize', () => {
  it('adds a step, less when the limit or the node is closer, nothing when either is reached', () => {
    expect(nextStepSize(0, 5, 100, 50)).toBe(5);
    expect(nextStepSize(98, 5, 100, 50)).toBe(2);
    expect(nextStepSize(10, 5, 100, 3)).toBe(3);
    expect(nextStepSize(100, 5, 100, 50)).toBe(0);
    expect(nextStepSize(10, 5, 100, 0)).toBe(0);
  });
});

describe('capacityOf', () => {
  it('is the last step before the first one that stopped the ramp', () => {
    expect(capacityOf([step(5), step(10), step(15, { echoP95Ms: 140 })])).toBe(10);
    expect(capacityOf([step(5, { sandboxFailures: 1 })])).toBe(0);
    expect(capacityOf([step(5), step(10)])).toBe(10);
  });
});

describe('sizing', () => {
  const sizing = { perCore: 12.5, perGiB: 20, baseGiB: 1.6 };
  it('rounds cores and memory up, so the node is never smaller than measured', () => {
    expect(nodeFor(25, sizing)).toEqual({ cores: 2, gib: 3 });
    expect(nodeFor(26, sizing)).toEqual({ cores: 3, gib: 3 });
    expect(nodeFor(1, sizing)).toEqual({ cores: 1, gib: 2 });
  });

  it('prints one markdown row per workshop size', () => {
    expect(sizingTable(sizing, [10, 50])).toBe(
      ['| workshop of | cores | GiB |', '| --- | --- | --- |', '| 10 | 1 | 3 |', '| 50 | 4 | 5 |'].join('\n'),
    );
  });
});
