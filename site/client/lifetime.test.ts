import { describe, expect, it } from 'vitest';
import type { SandboxView } from '../../sandbox-server/src/protocol/schemas.ts';
import { countdown, extensionMinutes, formatLeft, refreshDelayMs } from './lifetime.ts';

const now = Date.parse('2026-11-30T10:00:00Z');
const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();
const view = (over: Partial<SandboxView>): SandboxView => ({
  id: 'a',
  namespace: 'sbx-a',
  status: 'ready',
  expiresAt: at(1800),
  endsBy: at(4 * 3600),
  idleSeconds: 1800,
  warnSeconds: 300,
  ...over,
});

describe('countdown', () => {
  it('shows the time left without a warning while there is plenty', () => {
    expect(countdown(view({}), now)).toMatchObject({ secondsLeft: 1800, label: '30 min left', warn: false });
  });

  it('warns within the warning period with Extend, saying why and what to do', () => {
    const c = countdown(view({ expiresAt: at(299.2) }), now);
    expect(c).toMatchObject({ secondsLeft: 300, label: '5 min left', warn: true, canExtend: true });
    expect(c.message).toBe(
      'Your sandbox stops soon because nothing happened in it for a while. Type in the terminal or press Extend to keep it.',
    );
  });

  it('offers no Extend at the maximum lifetime, and says so', () => {
    const c = countdown(view({ expiresAt: at(45), endsBy: at(45) }), now);
    expect(c).toMatchObject({ label: '45 s left', warn: true, canExtend: false });
    expect(c.message).toContain('longest allowed time soon and cannot be extended');
  });

  it("offers no Extend in a workshop: the instructor decides, and the workshop's end is the time left", () => {
    const { endsBy: _, idleSeconds: __, ...rest } = view({});
    const c = countdown({ ...rest, workshop: 'w1', expiresAt: at(120) }, now);
    expect(c).toMatchObject({ label: '2 min left', warn: true, canExtend: false });
    expect(c.message).toContain('The workshop ends soon');
  });

  it('never counts below zero', () => {
    expect(countdown(view({ expiresAt: at(-10) }), now)).toMatchObject({ secondsLeft: 0, label: '0 s left' });
  });

  it('formats hours, minutes and seconds', () => {
    expect(formatLeft(3 * 3600 + 5 * 60 + 59)).toBe('3 h 05 min');
    expect(formatLeft(61)).toBe('1 min');
    expect(formatLeft(59)).toBe('59 s');
  });
});

describe('refresh and extension', () => {
  it('re-reads every 30 s normally, every few seconds during the warning, and wakes for the warning', () => {
    expect(refreshDelayMs(view({}), now)).toBe(30_000);
    expect(refreshDelayMs(view({ expiresAt: at(200) }), now)).toBe(3_000);
    expect(refreshDelayMs(view({ expiresAt: at(310) }), now)).toBe(10_000);
    // A short idle period (tests) is followed closely.
    expect(refreshDelayMs(view({ idleSeconds: 40, expiresAt: at(40), warnSeconds: 10 }), now)).toBe(5_000);
  });

  it('asks for one idle period per press of Extend', () => {
    expect(extensionMinutes(view({}))).toBe(30);
    expect(extensionMinutes(view({ idleSeconds: 45 }))).toBe(1);
  });
});
