// A copy button on every code block of the lesson, added in the browser (the page reads fine without it).
import { announce } from './announce.ts';

function textOf(pre: HTMLElement): string {
  return pre.dataset.copy ?? pre.textContent ?? '';
}

/**
 * Copies with the Clipboard API. It exists only in secure contexts (https, or localhost); served over plain http on a
 * LAN the page selects the code instead, so the learner can press Ctrl+C. Resolves whether it copied.
 */
async function copy(pre: HTMLElement): Promise<boolean> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(textOf(pre));
    return true;
  }
  const range = document.createRange();
  range.selectNodeContents(pre.querySelector('code') ?? pre);
  const selection = window.getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
  return false;
}

export function addCopyButtons(scope: ParentNode = document): void {
  for (const pre of scope.querySelectorAll<HTMLElement>('main pre')) {
    if (pre.parentElement?.classList.contains('code-wrap')) continue;
    const wrap = document.createElement('div');
    wrap.className = 'code-wrap';
    pre.before(wrap);
    wrap.append(pre);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy-button';
    button.textContent = 'Copy';
    button.setAttribute('aria-label', 'Copy code');
    button.addEventListener('click', async () => {
      try {
        const copied = await copy(pre);
        button.textContent = copied ? 'Copied' : 'Selected';
        announce(copied ? 'Copied to the clipboard' : 'Code selected; press Control C to copy it');
      } catch (error) {
        console.warn('sidecar-lab: copy failed', error);
        button.textContent = 'Not copied';
        announce('Copying failed; select the text and copy it');
      }
      setTimeout(() => {
        button.textContent = 'Copy';
      }, 1500);
    });
    wrap.append(button);
  }
}

addCopyButtons();
