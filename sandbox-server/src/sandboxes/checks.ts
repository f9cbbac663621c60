// Runs an exercise's checks against a sandbox as the checker identity, and keeps every verdict with its evidence.

import { parseManifests } from '../../../exercises/manifests.ts';
import type { CheckResult, ExerciseReport } from '../../../exercises/model.ts';
import { getExercise } from '../../../exercises/registry.ts';
import { overallBound, runExercise } from '../../../exercises/runner.ts';
import { createCheckContext } from '../cluster/check-context.ts';
import { applyManifests } from '../cluster/grading-namespace.ts';
import type { KubeConfig } from '../cluster/kubeconfig-file.ts';
import { CHECKER_SA, SYSTEM_NAMESPACE } from '../cluster/labels.ts';
import type { CheckRunRecord, CheckTrigger, Repository } from '../store/repository.ts';

export const CHECKER_USER = `system:serviceaccount:${SYSTEM_NAMESPACE}:${CHECKER_SA}`;

export class UnknownExerciseError extends Error {}

export class CheckService {
  readonly #listeners = new Set<(run: CheckRunRecord) => void>();
  readonly kc: KubeConfig;
  readonly repo: Repository;
  readonly observe: (exercise: string, seconds: number, status: string) => void;
  constructor(kc: KubeConfig, repo: Repository, observe: CheckService['observe'] = () => undefined) {
    this.kc = kc;
    this.repo = repo;
    this.observe = observe;
  }

  async run(
    session: string,
    sandboxId: string,
    namespace: string,
    exerciseId: string,
    answer?: string,
    trigger: CheckTrigger = 'manual',
    onResult?: (result: CheckResult) => void,
  ): Promise<ExerciseReport> {
    const exercise = getExercise(exerciseId);
    if (!exercise) throw new UnknownExerciseError(`no exercise "${exerciseId}"`);
    const ctx = createCheckContext(this.kc, namespace, { impersonate: CHECKER_USER, ...(answer ? { answer } : {}) });
    const report = await runExercise(exercise, ctx, {
      overallTimeoutMs: overallBound(exercise, 30_000),
      ...(onResult ? { onResult } : {}),
    });
    this.observe(exerciseId, report.durationMs / 1000, report.status);
    const run = await this.repo.recordCheck({
      session,
      sandbox: sandboxId,
      exercise: exerciseId,
      status: report.status,
      report: JSON.stringify(report),
      trigger,
    });
    for (const listener of this.#listeners) listener(run);
    return report;
  }

  /** Calls `listener` after each verdict is stored (a workshop's live grid follows them); returns an unsubscribe. */
  onRecorded(listener: (run: CheckRunRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Applies the exercise's setup manifests (e.g. the Pod a debugging exercise investigates) into the sandbox. */
  async setUp(namespace: string, exerciseId: string): Promise<void> {
    const exercise = getExercise(exerciseId);
    if (!exercise) throw new UnknownExerciseError(`no exercise "${exerciseId}"`);
    for (const file of exercise.setup) {
      const outcomes = await applyManifests(this.kc, namespace, parseManifests(file.content, file.path).objects);
      const refused = outcomes.find((o) => o.error);
      if (refused)
        throw new Error(`setup of ${exerciseId} failed at ${refused.file}:${refused.line}: ${refused.error}`);
    }
  }
}
