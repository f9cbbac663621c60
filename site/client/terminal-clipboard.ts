// Copy and paste in the terminal as in a desktop terminal on Linux: Ctrl+Shift+C copies the selection, Ctrl+Shift+V
// pastes, and Ctrl+C stays SIGINT for the shell. The context menu is the browser's own: on a right-click xterm moves
// its hidden textarea under the pointer holding the selection, so the menu's Copy and Paste act on the terminal.
import type { Terminal } from '@xterm/xterm';
import { announce } from './announce.ts';

/** For xterm's custom key handler: false when the key was a clipboard shortcut (xterm must not send it). */
export function clipboardKey(term: Terminal, event: KeyboardEvent): boolean {
  const shortcut = event.ctrlKey && event.shiftKey && !event.altKey && !event.metaKey;
  if (!shortcut || (event.code !== 'KeyC' && event.code !== 'KeyV')) return true;
  if (event.type !== 'keydown') return false;
  if (event.code === 'KeyC') {
    // Chromium opens the element inspector on Ctrl+Shift+C; in the terminal it means copy.
    event.preventDefault();
    const text = term.getSelection();
    if (text) {
      navigator.clipboard.writeText(text).then(
        () => announce('Copied'),
        () => announce('Could not copy: the browser refused'),
      );
    }
    return false;
  }
  // Ctrl+Shift+V: leaving the browser's default (paste as plain text) delivers a paste event to xterm's textarea,
  // which xterm sends to the shell (bracketed when the shell asked for it), without a clipboard permission prompt.
  return false;
}
