// The provider `./lab start` picks, for each kind of machine (kind itself cannot run here: its branch is tested by
// the decision).
import { describe, expect, it } from 'vitest';
import { chooseProvider, type Machine } from './provider.ts';

const machine = (over: Partial<Machine> & { commands?: string[] } = {}): Machine => ({
  platform: 'linux',
  isRoot: false,
  has: (command) => (over.commands ?? []).includes(command),
  dockerRunning: () => true,
  kubeconfigExists: false,
  ...over,
});

describe('chooseProvider', () => {
  it('uses the local cluster on Linux as root', () => {
    expect(chooseProvider(undefined, machine({ isRoot: true, commands: ['docker', 'kind'] }))).toMatchObject({
      provider: 'local',
    });
  });

  it('uses kind for a normal user with Docker running and kind installed', () => {
    expect(chooseProvider(undefined, machine({ commands: ['docker', 'kind'] }))).toMatchObject({ provider: 'kind' });
    expect(
      chooseProvider(undefined, machine({ platform: 'darwin', isRoot: true, commands: ['docker', 'kind'] })),
    ).toMatchObject({ provider: 'kind' });
  });

  it('falls to an existing kubeconfig when kind is missing or Docker is not running', () => {
    expect(chooseProvider(undefined, machine({ commands: ['docker'], kubeconfigExists: true }))).toMatchObject({
      provider: 'kubeconfig',
    });
    expect(
      chooseProvider(
        undefined,
        machine({ commands: ['docker', 'kind'], dockerRunning: () => false, kubeconfigExists: true }),
      ),
    ).toMatchObject({ provider: 'kubeconfig' });
  });

  it('stops with one message saying what to install or set when there is nothing', () => {
    const choice = chooseProvider(undefined, machine());
    expect(choice.provider).toBe('none');
    expect(choice).toMatchObject({ message: expect.stringMatching(/as root on Linux.*Docker and kind.*KUBECONFIG/) });
  });

  it('never runs the local cluster for a normal user, even when asked', () => {
    expect(chooseProvider('local', machine({ kubeconfigExists: true }))).toMatchObject({
      provider: 'none',
      message: expect.stringMatching(/sudo \.\/lab start/),
    });
    expect(chooseProvider('local', machine({ platform: 'darwin', isRoot: true }))).toMatchObject({
      provider: 'none',
      message: expect.stringMatching(/needs Linux/),
    });
  });

  it('honours an explicit choice', () => {
    expect(chooseProvider('kubeconfig', machine({ isRoot: true }))).toMatchObject({ provider: 'kubeconfig' });
    expect(chooseProvider('kind', machine())).toMatchObject({ provider: 'kind' });
  });
});
