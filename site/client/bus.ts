// The page's event bus: MDX components talk to the terminal and the sidebar through window events, never imports.
import type { SandboxState } from './sandbox.ts';

/** Every event on the bus, with its payload. */
export interface BusEvents {
  /** Type a command into the terminal and press Enter (the terminal opens first when it is closed). */
  'sidecar-lab:run': { command: string };
  /** Open the terminal panel, starting or reattaching the sandbox. */
  'sidecar-lab:open-terminal': { focus: boolean };
  /** The sandbox changed state (starting, ready, failed, ended). */
  'sidecar-lab:sandbox': SandboxState;
  /** Progress changed: lessons read and exercises passed. */
  'sidecar-lab:progress': { lessonsRead: string[]; exercisesPassed: string[] };
}

export type BusEventName = keyof BusEvents;

export function emit<K extends BusEventName>(name: K, detail: BusEvents[K]): void {
  window.dispatchEvent(new CustomEvent(name, { detail }));
}

/** Subscribes to one event; returns the function that unsubscribes. */
export function on<K extends BusEventName>(name: K, handler: (detail: BusEvents[K]) => void): () => void {
  const listener = (event: Event) => handler((event as CustomEvent<BusEvents[K]>).detail);
  window.addEventListener(name, listener);
  return () => window.removeEventListener(name, listener);
}
