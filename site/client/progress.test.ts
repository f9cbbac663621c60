import { describe, expect, it } from 'vitest';
import { mergeProgress } from './progress.ts';

describe('mergeProgress', () => {
  it('keeps everything either side knows, once, in a stable order', () => {
    const server = { lessonsRead: ['logging-sidecar', 'introduction'], exercisesPassed: ['logging-sidecar'] };
    const local = { lessonsRead: ['introduction', 'pod-structure'], exercisesPassed: ['first-sidecar'] };
    expect(mergeProgress(local, server)).toEqual({
      lessonsRead: ['introduction', 'logging-sidecar', 'pod-structure'],
      exercisesPassed: ['first-sidecar', 'logging-sidecar'],
    });
  });
});
