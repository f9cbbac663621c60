// The exercise contract: definitions, check results, reports, the Kubernetes shapes checks read, and the check context.
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes shapes. Only the fields checks read; the cluster adapter parses API objects through these, so checks
// get plain, typed data and evidence stays small.
// ---------------------------------------------------------------------------------------------------------------

const stringMap = z.record(z.string(), z.string());

/** A probe (readiness, liveness, startup); any handler kind counts as "has a probe". */
export const ProbeSchema = z.object({
  exec: z.object({ command: z.array(z.string()).default([]) }).optional(),
  httpGet: z.object({ path: z.string().optional(), port: z.union([z.number(), z.string()]) }).optional(),
  tcpSocket: z.object({ port: z.union([z.number(), z.string()]) }).optional(),
  grpc: z.object({ port: z.number() }).optional(),
  initialDelaySeconds: z.number().optional(),
  periodSeconds: z.number().optional(),
  timeoutSeconds: z.number().optional(),
  failureThreshold: z.number().optional(),
  successThreshold: z.number().optional(),
});

/** A container of a Pod spec, regular or init. */
export const ContainerSchema = z.object({
  name: z.string(),
  image: z.string().optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  ports: z
    .array(z.object({ containerPort: z.number(), name: z.string().optional(), protocol: z.string().optional() }))
    .default([]),
  volumeMounts: z
    .array(
      z.object({
        name: z.string(),
        mountPath: z.string(),
        subPath: z.string().optional(),
        readOnly: z.boolean().optional(),
      }),
    )
    .default([]),
  readinessProbe: ProbeSchema.optional(),
  livenessProbe: ProbeSchema.optional(),
  startupProbe: ProbeSchema.optional(),
  resources: z
    .object({ requests: stringMap.optional(), limits: stringMap.optional() })
    .default({})
    .transform((r) => ({ requests: r.requests ?? {}, limits: r.limits ?? {} })),
  /** `Always` on an init container makes it a native sidecar. */
  restartPolicy: z.string().optional(),
});

/** A volume; the source (emptyDir, configMap, …) is kept as given. */
export const VolumeSchema = z.object({ name: z.string() }).catchall(z.unknown());

/** A Pod spec (also a Job's Pod template spec); lists default to empty so checks need no guards. */
export const PodSpecSchema = z.object({
  containers: z.array(ContainerSchema).default([]),
  initContainers: z.array(ContainerSchema).default([]),
  volumes: z.array(VolumeSchema).default([]),
  restartPolicy: z.string().optional(),
  shareProcessNamespace: z.boolean().optional(),
  /** How long the kubelet waits for a container to stop before killing it (default 30). */
  terminationGracePeriodSeconds: z.number().optional(),
});

const ContainerStateSchema = z.object({
  running: z.object({ startedAt: z.string().optional() }).optional(),
  waiting: z.object({ reason: z.string().optional(), message: z.string().optional() }).optional(),
  terminated: z
    .object({
      exitCode: z.number(),
      reason: z.string().optional(),
      message: z.string().optional(),
      startedAt: z.string().optional(),
      finishedAt: z.string().optional(),
    })
    .optional(),
});

/** What the kubelet reports about one container: readiness, restarts, current and previous state. */
export const ContainerStatusSchema = z.object({
  name: z.string(),
  ready: z.boolean().default(false),
  started: z.boolean().optional(),
  restartCount: z.number().default(0),
  image: z.string().optional(),
  state: ContainerStateSchema.default({}),
  lastState: ContainerStateSchema.default({}),
});

const ConditionSchema = z.object({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

/** Object metadata; labels find a Job's Pods, annotations carry LimitRanger's notes. */
export const ObjectMetaSchema = z.object({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  labels: stringMap.default({}),
  annotations: stringMap.default({}),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  ownerReferences: z.array(z.object({ kind: z.string(), name: z.string() })).default([]),
  /** Who set which fields (server-side field ownership): tells what a learner wrote from what was filled in. */
  managedFields: z
    .array(
      z.object({
        manager: z.string().optional(),
        operation: z.string().optional(),
        fieldsV1: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .default([]),
});

/** A Pod as checks see it. Annotations are kept because LimitRanger records its defaults there. */
export const PodSchema = z.object({
  metadata: ObjectMetaSchema,
  spec: PodSpecSchema,
  status: z
    .object({
      phase: z.string().optional(),
      podIP: z.string().optional(),
      reason: z.string().optional(),
      message: z.string().optional(),
      conditions: z.array(ConditionSchema).default([]),
      containerStatuses: z.array(ContainerStatusSchema).default([]),
      initContainerStatuses: z.array(ContainerStatusSchema).default([]),
    })
    .default({ conditions: [], containerStatuses: [], initContainerStatuses: [] }),
});

/** A Job as checks see it. */
export const JobSchema = z.object({
  metadata: ObjectMetaSchema,
  spec: z.object({
    template: z.object({ metadata: z.unknown().optional(), spec: PodSpecSchema }),
    backoffLimit: z.number().optional(),
    completions: z.number().optional(),
  }),
  status: z
    .object({
      active: z.number().optional(),
      succeeded: z.number().optional(),
      failed: z.number().optional(),
      conditions: z.array(ConditionSchema).default([]),
    })
    .default({ conditions: [] }),
});

/** A ResourceQuota's budget and what the API server counts against it (the quota admission's own accounting). */
export const ResourceQuotaSchema = z.object({
  metadata: ObjectMetaSchema,
  spec: z
    .object({ hard: stringMap.default({}), scopes: z.array(z.string()).default([]) })
    .default({ hard: {}, scopes: [] }),
  status: z.object({ hard: stringMap.default({}), used: stringMap.default({}) }).default({ hard: {}, used: {} }),
});

/** A ConfigMap as checks see it: its text data by key. */
export const ConfigMapSchema = z.object({
  metadata: ObjectMetaSchema,
  data: stringMap.nullish().transform((d) => d ?? {}),
});

export type Probe = z.infer<typeof ProbeSchema>;
export type Container = z.infer<typeof ContainerSchema>;
export type ContainerStatus = z.infer<typeof ContainerStatusSchema>;
export type PodSpec = z.infer<typeof PodSpecSchema>;
export type Pod = z.infer<typeof PodSchema>;
export type Job = z.infer<typeof JobSchema>;
export type ResourceQuota = z.infer<typeof ResourceQuotaSchema>;
export type ConfigMap = z.infer<typeof ConfigMapSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Results and reports.
// ---------------------------------------------------------------------------------------------------------------

/** `error` means the checker could not tell (cluster unavailable, deadline hit): never a verdict on the learner. */
export const CheckStatusSchema = z.enum(['pass', 'fail', 'error']);
export type CheckStatus = z.infer<typeof CheckStatusSchema>;

/** What a check saw: spec and status excerpts, matched log lines, probe output. JSON-serialisable, size-bounded. */
export const EvidenceSchema = z.record(z.string(), z.unknown());
export type Evidence = z.infer<typeof EvidenceSchema>;

/** One check's verdict, stored with the evidence it saw so an instructor can see why. */
export const CheckResultSchema = z.object({
  id: z.string(),
  title: z.string(),
  status: CheckStatusSchema,
  /** In the learner's terms: what is wrong, or what was confirmed. */
  message: z.string(),
  /** Present when the check failed and its author gave a hint. */
  hint: z.string().optional(),
  evidence: EvidenceSchema,
  durationMs: z.number().nonnegative(),
});
export type CheckResult = z.infer<typeof CheckResultSchema>;

/** The result of running every check of one exercise against one namespace. */
export const ExerciseReportSchema = z.object({
  exercise: z.string(),
  /** True exactly when every check passed. */
  passed: z.boolean(),
  /** `error` when any check could not be decided, else `fail` when any failed, else `pass`. */
  status: CheckStatusSchema,
  checks: z.array(CheckResultSchema),
  /** ISO time the run began. */
  startedAt: z.string(),
  durationMs: z.number().nonnegative(),
});
export type ExerciseReport = z.infer<typeof ExerciseReportSchema>;

/** What a check function returns; `error` is not here on purpose: a check that cannot decide throws. */
export const CheckOutcomeSchema = z.object({
  status: z.enum(['pass', 'fail']),
  message: z.string().min(1),
  evidence: EvidenceSchema.default({}),
});
export type CheckOutcome = z.input<typeof CheckOutcomeSchema>;

// ---------------------------------------------------------------------------------------------------------------
// The check context: the only way a check touches the cluster.
// ---------------------------------------------------------------------------------------------------------------

/** Output of a command run in a container by the checker. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /**
   * The command's exit code; 127 when the executable does not exist in the image; `null` when it did not run to the
   * end (the container is not running, or `timeoutMs` passed — see `timedOut`).
   */
  exitCode: number | null;
  timedOut: boolean;
}

/** Bounds for a log read; both are required so no check can pull an unbounded log. */
export interface LogOptions {
  tailLines: number;
  limitBytes: number;
  /** Logs of the previous (crashed) instance of the container. */
  previous?: boolean;
  /** Prefix each line with the time the runtime received it (RFC 3339, nanoseconds), to observe timing claims. */
  timestamps?: boolean;
}

/**
 * Read access to one namespace plus exec, as the checker identity has it, and one write: a check that must prove a
 * reaction to a change (a reloaded configuration) changes a ConfigMap's data itself. Every call has its own timeout.
 */
export interface ClusterReader {
  /** `undefined` when the Pod does not exist. */
  getPod(name: string): Promise<Pod | undefined>;
  listPods(options?: { labelSelector?: string }): Promise<Pod[]>;
  /** `undefined` when the Job does not exist. */
  getJob(name: string): Promise<Job | undefined>;
  listJobs(options?: { labelSelector?: string }): Promise<Job[]>;
  /** `undefined` when the ResourceQuota does not exist. */
  getResourceQuota(name: string): Promise<ResourceQuota | undefined>;
  /** Logs of one container; `undefined` when there are none to read (Pod or container missing, not started yet). */
  logs(pod: string, container: string, options: LogOptions): Promise<string | undefined>;
  /** `undefined` when the ConfigMap does not exist. */
  getConfigMap(name: string): Promise<ConfigMap | undefined>;
  /**
   * Sets these keys of a ConfigMap's data (a merge: other keys stay; `null` removes a key). The only write a check
   * makes; a check that changes a learner's ConfigMap puts the old values back before it returns.
   */
  patchConfigMapData(name: string, data: Record<string, string | null>): Promise<void>;
  /** Runs `argv` (no shell unless you ask for one) in one container of one Pod. */
  exec(pod: string, container: string, argv: string[], options: { timeoutMs: number }): Promise<ExecResult>;
}

/**
 * What a check receives. API methods throw `ClusterUnavailableError` when the cluster does not answer; a missing
 * object is `undefined`, not an error. `sleep` and `waitFor` never go past `deadline`.
 */
export interface CheckContext extends ClusterReader {
  readonly namespace: string;
  /** The learner's text answer, for exercises that ask for one. */
  readonly answer?: string;
  /** Epoch milliseconds by which the current check must have returned. */
  readonly deadline: number;
  sleep(ms: number): Promise<void>;
  /**
   * Polls `probe` every `intervalMs` (default 250) until it returns a value other than undefined/null/false, or until
   * `timeoutMs` (or the deadline) passes; then resolves with the last value, so the caller can say what it saw.
   */
  waitFor<T>(
    probe: () => Promise<T | undefined | null | false>,
    options: { timeoutMs: number; intervalMs?: number },
  ): Promise<{ ok: true; value: T } | { ok: false; last: T | undefined | null | false }>;
}

// ---------------------------------------------------------------------------------------------------------------
// Exercise definitions.
// ---------------------------------------------------------------------------------------------------------------

/** Exercise and check ids are kebab-case; exercise ids name the folders under exercises/. */
export const KebabIdSchema = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'ids are kebab-case, e.g. "collector-mounts-log-volume"');

/** The function that decides one check. */
export type CheckFn = (ctx: CheckContext) => Promise<CheckOutcome>;

/**
 * Finds, with trusted code, the answer a reference file submits when the answer is random per run: the reference
 * solution's (no `variant`) or a broken variant's (its file name, e.g. "answer-matches--current" for
 * `broken/answer-matches--current.yaml`).
 * Resolves undefined when that file's own text answer stands. For tests and the mutation tester only: the grader
 * never calls it for a submission.
 */
export type ReferenceAnswerFn = (ctx: CheckContext, variant?: string) => Promise<string | undefined>;

/** One check of an exercise: what it is called, what it needs first, how long it may take, and how it decides. */
export const CheckDefinitionSchema = z.object({
  /** Stable id, used in reports, stored verdicts and broken-variant file names. */
  id: KebabIdSchema,
  /** One line saying what is being checked, in the learner's terms. */
  title: z.string().min(1),
  /** Shown with a failure: a nudge towards the fix, not the answer. */
  hint: z.string().optional(),
  /**
   * Ids of earlier checks this one builds on. When one of them did not pass, this check is not run and is reported
   * as `fail` ("fix … first"), or as `error` when the earlier one could not be decided.
   */
  requires: z.array(KebabIdSchema).default([]),
  /** Per-check deadline; checks that wait for something to happen (a restart, a Job) ask for more. */
  timeoutMs: z.number().int().positive().max(240_000).default(10_000),
  run: z.custom<CheckFn>((value) => typeof value === 'function', 'run must be a function'),
});
export type CheckDefinition = z.infer<typeof CheckDefinitionSchema>;
export type CheckDefinitionInput = z.input<typeof CheckDefinitionSchema>;

/** For exercises whose result is a text the learner types (e.g. a code found with kubectl). */
export const AnswerPromptSchema = z.object({
  /** The question shown beside the answer field. */
  prompt: z.string().min(1),
  placeholder: z.string().optional(),
});

/**
 * A generated mutant of the solution (see exercises/mutants.ts) that is still a correct solution by the goal's words,
 * so no check should kill it. `npm run exercises:mutate` grades it too and expects every check to pass.
 */
export const EquivalentMutantSchema = z.object({
  /** The mutant's id as the generator prints it, e.g. "rename:log-agent". */
  id: z.string().min(1),
  /** One line: why the goal allows this change. */
  why: z.string().min(1),
});
export type EquivalentMutant = z.infer<typeof EquivalentMutantSchema>;

/** What an author writes in `exercises/<id>/exercise.ts`. */
export const ExerciseDefinitionSchema = z
  .object({
    id: KebabIdSchema,
    title: z.string().min(1),
    /** Markdown: what to build, with the object names the checks look for. */
    goal: z.string().min(1),
    /** Revealed one at a time, in this order. */
    hints: z.array(z.string().min(1)).min(1),
    answer: AnswerPromptSchema.optional(),
    /** For text answers that are random per run: the commands that reveal it, shown as the solution. */
    answerSource: z.string().min(1).optional(),
    /** See `ReferenceAnswerFn`: tests and the mutation tester only. */
    referenceAnswer: z
      .custom<ReferenceAnswerFn>((value) => typeof value === 'function', 'referenceAnswer must be a function')
      .optional(),
    /** How long the grader waits for applied objects to settle before checking. */
    settleTimeoutMs: z.number().int().positive().max(300_000).default(60_000),
    checks: z.array(CheckDefinitionSchema).min(1),
    /** Mutants of the solution that are correct too; the mutation run checks that each id is still generated. */
    equivalentMutants: z.array(EquivalentMutantSchema).default([]),
  })
  .superRefine((exercise, issues) => {
    const seen = new Set<string>();
    for (const [index, check] of exercise.checks.entries()) {
      if (seen.has(check.id)) {
        issues.addIssue({ code: 'custom', path: ['checks', index, 'id'], message: `duplicate check id "${check.id}"` });
      }
      for (const required of check.requires) {
        if (!seen.has(required)) {
          issues.addIssue({
            code: 'custom',
            path: ['checks', index, 'requires'],
            message: `"${check.id}" requires "${required}", which is not an earlier check`,
          });
        }
      }
      seen.add(check.id);
    }
  });
export type ExerciseDefinition = z.infer<typeof ExerciseDefinitionSchema>;
export type ExerciseDefinitionInput = z.input<typeof ExerciseDefinitionSchema>;

/** A file the learner starts from, or a reference or setup manifest, as text. */
export const ExerciseFileSchema = z.object({
  /** File name inside the exercise's folder, e.g. `starter/pod.yaml`. */
  path: z.string().min(1),
  content: z.string(),
});
export type ExerciseFile = z.infer<typeof ExerciseFileSchema>;

/** A wrong solution kept for the tests; its file name names the check that must fail first. */
export const BrokenVariantSchema = ExerciseFileSchema.extend({
  /** The first check that must fail, from `broken/<check-id>[--<variant>].yaml`. */
  checkId: KebabIdSchema,
  variant: z.string().optional(),
});
export type BrokenVariant = z.infer<typeof BrokenVariantSchema>;

/** An exercise with its files loaded from its folder: what the registry hands out. */
export const ExerciseSchema = ExerciseDefinitionSchema.safeExtend({
  starter: z.array(ExerciseFileSchema).min(1),
  solution: z.array(ExerciseFileSchema).min(1),
  setup: z.array(ExerciseFileSchema).default([]),
  broken: z.array(BrokenVariantSchema).default([]),
  /** Other correct solutions (e.g. with a native sidecar) that the tests expect to pass too. */
  accepted: z.array(ExerciseFileSchema).default([]),
});
export type Exercise = z.infer<typeof ExerciseSchema>;

/** What the site may show about an exercise: no check code, no solution, no broken variants. */
export const ExerciseSummarySchema = z.object({
  id: KebabIdSchema,
  title: z.string(),
  goal: z.string(),
  hints: z.array(z.string()),
  answer: AnswerPromptSchema.optional(),
  starter: z.array(ExerciseFileSchema),
  checks: z.array(z.object({ id: z.string(), title: z.string() })),
});
export type ExerciseSummary = z.infer<typeof ExerciseSummarySchema>;

/**
 * A text answer kept in a manifest folder (`answer.yaml`), so a folder can be graded like any other: plain text, as
 * the learner would type it. A submission never tells the grader where or how to find its answer (no log to read,
 * no pattern to compile); exercises whose answer is random per run find the reference one with `referenceAnswer`.
 */
export const AnswerFileSchema = z
  .object({
    answer: z.string({
      error: 'the answer is the text you found, e.g. answer: "1a2b3c4d"; the grader does not look it up for you',
    }),
  })
  .strict();
export type AnswerFile = z.infer<typeof AnswerFileSchema>;

/** Identity function that gives an exercise file's object literal its type (parsed later by the registry). */
export function defineExercise(definition: ExerciseDefinitionInput): ExerciseDefinitionInput {
  return definition;
}
