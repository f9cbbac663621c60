// One polite live region for short confirmations ("Copied", "Sent to the terminal") that have no place of their own.

export function announce(message: string): void {
  const region = document.getElementById('sr-announcer');
  if (!region) return;
  // Clearing first makes a repeated message ("Copied" twice) be read again.
  region.textContent = '';
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}
