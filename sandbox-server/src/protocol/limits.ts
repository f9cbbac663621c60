// Plain numbers of the wire contract that the page needs as values; kept free of zod so importing one into a page
// script does not pull the schema library into it.

/** Terminal tabs a learner may have in one sandbox; each is a tmux session of its own in the same toolbox. */
export const MAX_TERMINAL_TABS = 4;

/** Where a sandbox is in its life, as the API reports it. */
export const SANDBOX_STATUSES = ['provisioning', 'ready', 'expired', 'deleting', 'failed'] as const;
