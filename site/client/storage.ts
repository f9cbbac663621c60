// localStorage/sessionStorage that never throws: private modes and full quotas must not break the page.

type Area = 'local' | 'session';

function area(kind: Area): Storage | undefined {
  try {
    return kind === 'local' ? window.localStorage : window.sessionStorage;
  } catch {
    // Storage is disabled (e.g. blocked cookies): everything still works for this page view.
    return undefined;
  }
}

export function readItem(key: string, kind: Area = 'local'): string | undefined {
  try {
    return area(kind)?.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

export function writeItem(key: string, value: string | undefined, kind: Area = 'local'): void {
  try {
    if (value === undefined) area(kind)?.removeItem(key);
    else area(kind)?.setItem(key, value);
  } catch (error) {
    console.warn(`sidecar-lab: could not save ${key}`, error);
  }
}
