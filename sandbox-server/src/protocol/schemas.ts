// The wire contract between the site and the server: API bodies and terminal control frames (zod only).
import { z } from 'zod';
import { MAX_TERMINAL_TABS, SANDBOX_STATUSES } from './limits.ts';

/** Lifecycle of a sandbox as the learner sees it. */
export const sandboxStatus = z.enum(SANDBOX_STATUSES);
export type SandboxStatus = z.infer<typeof sandboxStatus>;

export const sandboxView = z.object({
  id: z.string(),
  namespace: z.string(),
  status: sandboxStatus,
  /** When the sandbox ends unless the learner is active (or extends it) before then. */
  expiresAt: z.string(),
  workshop: z.string().optional(),
  /** The latest it may live, activity and extensions included; absent for a workshop's sandbox (it ends with it). */
  endsBy: z.string().optional(),
  /** Present when the expiry follows activity: each terminal keystroke, file, setup or Check moves it this far out. */
  idleSeconds: z.number().optional(),
  /** How long before the expiry the page warns and offers "Extend". */
  warnSeconds: z.number().optional(),
  /** On a new sandbox of a learner who had saved work: whether it was restored, and what (or why not). */
  restore: z.object({ restored: z.boolean(), message: z.string() }).optional(),
});
export type SandboxView = z.infer<typeof sandboxView>;

export const createSandboxBody = z
  .object({
    /** The exercise the learner starts with; its setup manifests are applied when given. */
    exercise: z
      .string()
      .regex(/^[a-z0-9-]{1,63}$/)
      .optional(),
  })
  .strict();

export const extendSandboxBody = z
  .object({
    minutes: z.number().int().min(1).max(240).default(30),
  })
  .strict();

export const checkBody = z
  .object({
    /** A text answer, for exercises that ask for one. */
    answer: z.string().max(200).optional(),
    /**
     * Who started the run: `manual` (the learner pressed Check; it counts as an attempt) or `auto` (the site re-checks
     * after a namespace change; stored, not counted). Left out it is `manual`: a client that does not say is an older
     * page or a script, and both run a check on purpose. Claiming `manual` gains nothing but one's own attempt count.
     */
    trigger: z.enum(['manual', 'auto']).default('manual'),
  })
  .strict();

/**
 * One line of `POST /api/sandboxes/:id/checks/:exerciseId/stream` (NDJSON): each check's result as it finishes, in
 * the exercise's order, then the whole report — or an error, when the run broke off after the answer began.
 */
export type CheckStreamLine<Result, Report> =
  | { check: Result }
  | { report: Report }
  | { error: { code: ErrorCode; message: string } };

/** A file the course writes into the learner's home folder (`<CreateFile>`). */
export const writeFileBody = z
  .object({
    path: z
      .string()
      .max(200)
      // Relative, inside the home folder: no "..", no "." segment, no leading "/", no NUL or other odd characters.
      .regex(
        /^(?!.*\.\.)(?!\.(?:\/|$))(?!.*\/\.(?:\/|$))[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/,
        'a relative path such as "pods/logging.yaml"',
      ),
    content: z.string().max(64 * 1024),
  })
  .strict();

/** A file of the learner's home folder to read (the editor); the same path rule as writing. */
export const readFileQuery = z.object({ path: writeFileBody.shape.path }).strict();

/** A manifest to check against the cluster as the learner would apply it, without applying it (the editor). */
export const validateBody = z.object({ content: writeFileBody.shape.content }).strict();

export const errorCode = z.enum([
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  /** A request body that is not JSON (by its Content-Type). */
  'unsupported_media_type',
  'rate_limited',
  'capacity',
  'cluster_unavailable',
  'internal',
  /** Every place of the workshop is taken. */
  'workshop_full',
  /** The workshop was ended by its instructor or its time is up. */
  'workshop_ended',
]);
export type ErrorCode = z.infer<typeof errorCode>;

export const errorBody = z.object({
  error: z.object({ code: errorCode, message: z.string(), requestId: z.string().optional() }),
});
export type ErrorBody = z.infer<typeof errorBody>;

/** Terminal control frames travel as JSON text frames; terminal bytes travel as binary frames. */
export const terminalControl = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('resize'),
    cols: z.number().int().min(1).max(1000),
    rows: z.number().int().min(1).max(1000),
  }),
  z.object({ type: z.literal('ping'), t: z.number().optional() }),
]);
export type TerminalControl = z.infer<typeof terminalControl>;

/** Frames the server sends as text: connection state the terminal shows to the learner. */
export const terminalServerFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), sandbox: z.string() }),
  z.object({ type: z.literal('pong'), t: z.number().optional() }),
  z.object({ type: z.literal('closing'), reason: z.string() }),
]);
export type TerminalServerFrame = z.infer<typeof terminalServerFrame>;

/** Largest frame the terminal accepts from a browser: keystrokes and pastes, not uploads. */
export const MAX_TERMINAL_FRAME_BYTES = 64 * 1024;

export { MAX_TERMINAL_TABS };

/** `GET /api/sandboxes/:id/terminals`: the tabs whose tmux session exists, 1-based, in order. */
export const terminalTabs = z.object({ tabs: z.array(z.number().int().min(1).max(MAX_TERMINAL_TABS)) });
export type TerminalTabs = z.infer<typeof terminalTabs>;
