// The one vocabulary of labels and annotations Sidecar Lab puts on what it creates; the reaper trusts nothing else.

export const DOMAIN = 'sidecar-lab.dev';

export const LABELS = {
  /** Present (value "true") on every object we create; the reaper only ever touches namespaces carrying it. */
  managed: `${DOMAIN}/managed`,
  /** Hash of the owning learner session; empty while a sandbox waits in the warm pool. */
  owner: `${DOMAIN}/owner`,
  /**
   * "provisioning" while a pool sandbox is being built, "warm" once its shell answers and it waits unclaimed,
   * "claimed" once a learner has it. Only "warm" ones are ever handed out.
   */
  pool: `${DOMAIN}/pool`,
  /** The server instance whose warm pool a sandbox belongs to, so servers sharing a cluster keep their own pools. */
  instance: `${DOMAIN}/instance`,
  /** Digest of the blueprint a sandbox was built from; a warm one from another blueprint is never handed out. */
  blueprint: `${DOMAIN}/blueprint`,
  /** Workshop id, when the sandbox belongs to one. */
  workshop: `${DOMAIN}/workshop`,
  /** The sandbox id (also the suffix of the namespace name). */
  sandbox: `${DOMAIN}/sandbox`,
  /** Marks the toolbox Pod, which the admission policy protects. */
  component: `${DOMAIN}/component`,
} as const;

export const ANNOTATIONS = {
  /** On the learner and checker ClusterRoles: the revision of their rules, so the newest server's rules win. */
  rulesRevision: `${DOMAIN}/rules-revision`,
  /** ISO time after which the reaper deletes the sandbox. */
  expiresAt: `${DOMAIN}/expires-at`,
  /** ISO time the sandbox was claimed by its learner. */
  claimedAt: `${DOMAIN}/claimed-at`,
  /**
   * ISO time past which a learner's own sandbox never lives, whatever its activity or extensions (claim time plus
   * SIDECAR_LAB_MAX_TTL_MINUTES). Absent on workshop sandboxes, which end with their workshop.
   */
  endsBy: `${DOMAIN}/ends-by`,
  /** Exercise the learner started the sandbox for. */
  exercise: `${DOMAIN}/exercise`,
} as const;

export const NAMESPACE_PREFIX = 'sbx-';
export const TOOLBOX_POD = 'toolbox';
export const TOOLBOX_CONTAINER = 'shell';
export const LEARNER_SA = 'learner';
/** The namespace where the server keeps its own identities (the checker). */
export const SYSTEM_NAMESPACE = 'sidecar-lab-system';
export const CHECKER_SA = 'checker';

export const managedSelector = `${LABELS.managed}=true`;
