// "main-app serves": nginx in the named container answers on port 80 with a page the checker has just planted in its
// web root, so no other container (and no fixed reply) can stand in for it.
import type { CheckDefinitionInput, Pod } from '../model.ts';
import { fail, pass, withPod } from './common.ts';
import { describeProbe, probeEvidence } from './http.ts';
import { askForPlanted } from './planted.ts';

export interface ServesOptions {
  id: string;
  title: string;
  hint: string;
  requires: string[];
  /** What the failure message says main-app should do, e.g. "keep serving". */
  should: string;
  /** Containers to ask from besides main-app itself (the sidecars): any of them may be down at this moment. */
  askFrom: (pod: Pod) => string[];
}

/** The check that nginx in `main` serves the checker's page on port 80 inside Pod `pod`. */
export function nginxServes(pod: string, main: string, options: ServesOptions): CheckDefinitionInput {
  return {
    id: options.id,
    title: options.title,
    hint: options.hint,
    requires: options.requires,
    // Three execs (plant the page, ask for it, remove it), each of which a busy node may take seconds to start.
    timeoutMs: 20_000,
    run: withPod(pod, async (found, ctx) => {
      const asked = await askForPlanted(ctx, pod, main, [main, ...options.askFrom(found)], {
        host: '127.0.0.1',
        port: 80,
      });
      const { probe } = asked;
      const { token, plantError } = asked.page;
      const evidence = { probe: probeEvidence(probe), expected: token, plantError };
      if (asked.served || (token === undefined && probe.status === 200)) {
        return pass(`nginx in ${main} answers on port 80.`, evidence);
      }
      const what =
        probe.status === undefined
          ? describeProbe(probe)
          : `answered HTTP ${probe.status}, but not with the page the checker put into ${main}'s web root`;
      return fail(`Inside the Pod, ${probe.url} ${what}; nginx in ${main} should ${options.should}.`, evidence);
    }),
  };
}
