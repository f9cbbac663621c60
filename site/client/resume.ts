// The resume page: make or revoke this learner's resume code, or continue here as the learner of a code.
import { call, describeError, server } from './api.ts';

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const status = $('[data-resume-status]');
const revoke = $<HTMLButtonElement>('[data-resume-revoke]');
const shown = $('[data-resume-shown]');
const input = $<HTMLInputElement>('#resume-input');
const result = $('[data-resume-result]');

function showState(active: boolean, createdAt?: string): void {
  status.textContent = active
    ? `You have a resume code, made ${new Date(createdAt!).toLocaleString()}.`
    : 'You have no resume code.';
  revoke.hidden = !active;
}

async function refresh(): Promise<void> {
  try {
    const state = await call(() => server.api['resume-code'].$get());
    showState(state.active, state.createdAt);
  } catch (error) {
    status.textContent = describeError(error);
  }
}

$('[data-resume-make]').addEventListener('click', async () => {
  try {
    const made = await call(() => server.api['resume-code'].$post());
    $('[data-resume-code]').textContent = made.code;
    const link = $<HTMLAnchorElement>('[data-resume-link]');
    link.href = made.path;
    link.textContent = new URL(made.path, location.href).href;
    shown.hidden = false;
    showState(true, made.createdAt);
  } catch (error) {
    status.textContent = describeError(error);
  }
});

revoke.addEventListener('click', async () => {
  try {
    await call(() => server.api['resume-code'].$delete());
    shown.hidden = true;
    showState(false);
  } catch (error) {
    status.textContent = describeError(error);
  }
});

$<HTMLFormElement>('[data-resume-form]').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    await call(() => server.api.resume.$post({ json: { code: input.value } }));
    result.innerHTML = '';
    result.append('Done: this browser continues as that learner. ');
    const home = document.createElement('a');
    home.href = '/';
    home.textContent = 'Go to the course';
    result.append(home);
    await refresh();
  } catch (error) {
    result.textContent = describeError(error);
  }
});

// A link carries the code after "#" (never sent to the server): it fills the form, and the learner confirms.
if (location.hash.length > 1) input.value = decodeURIComponent(location.hash.slice(1));
void refresh();

// Sign-in, when the server has an OpenID Connect provider configured: who is signed in, and a way out.
const account = $('[data-account]');
const accountStatus = $('[data-account-status]');
const signIn = $('[data-account-signin]');
const signOut = $<HTMLButtonElement>('[data-account-signout]');

async function showAccount(): Promise<void> {
  const state = await call(() => server.api.account.$get());
  account.hidden = !state.signInAvailable;
  accountStatus.textContent = state.signedInAs ? `Signed in as ${state.signedInAs}.` : 'You are not signed in.';
  signIn.hidden = Boolean(state.signedInAs);
  signOut.hidden = !state.signedInAs;
}

signOut.addEventListener('click', async () => {
  try {
    await call(() => server.api.logout.$post());
    await showAccount();
    await refresh();
  } catch (error) {
    accountStatus.textContent = describeError(error);
  }
});
showAccount().catch((error: unknown) => {
  accountStatus.textContent = describeError(error);
});
