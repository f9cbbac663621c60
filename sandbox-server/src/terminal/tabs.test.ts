// Terminal tabs map to tmux sessions: the first is the sandbox's own session, the others are named after it.
import { describe, expect, it } from 'vitest';
import { TMUX_SESSION } from '../sandboxes/sandboxes.ts';
import { attachCommand, MAX_TABS, tabSession, tabsOf } from './tmux-clients.ts';

describe('terminal tabs', () => {
  it('names the first tab’s session as the warm pool does, the others after it', () => {
    expect(tabSession(1)).toBe(TMUX_SESSION);
    expect(tabSession(2)).toBe(`${TMUX_SESSION}-2`);
    expect(tabSession(MAX_TABS)).toBe(`${TMUX_SESSION}-${MAX_TABS}`);
    for (const bad of [0, -1, 1.5, MAX_TABS + 1, Number.NaN]) expect(() => tabSession(bad)).toThrow(RangeError);
  });

  it('reads the tabs from tmux list-sessions, ignoring sessions that are not tabs', () => {
    const listing = [tabSession(2), 'scratch', TMUX_SESSION, `${TMUX_SESSION}-9`, `${tabSession(4)}\r`, ''].join('\n');
    expect(tabsOf(listing)).toEqual([1, 2, 4]);
    expect(tabsOf('')).toEqual([]);
  });

  it('attaches each tab to its own session', () => {
    expect(attachCommand('c1', ['c1'], tabSession(3)).at(-1)).toMatch(
      new RegExp(`exec tmux new-session -A -s ${TMUX_SESSION}-3$`),
    );
    expect(attachCommand('c1', ['c1']).at(-1)).toMatch(new RegExp(`exec tmux new-session -A -s ${TMUX_SESSION}$`));
  });
});
