/**
 * HTML pages of the development IdP: sign-in form, error page, logout confirmation.
 *
 * Enforces: every value taken from a request is HTML-escaped; pages load nothing from other
 * hosts (the dev IdP must work offline); no page echoes a password back.
 */
import { escapeHtml } from '../http/html-error.js';

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem}' +
  'input,button{display:block;width:100%;box-sizing:border-box;margin:.4rem 0;padding:.5rem;font-size:1rem}' +
  '.error{color:#b00020}.hint{color:#555;font-size:.9rem}';

function layout(title: string, body: string): string {
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>` +
    `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
  );
}

export interface LoginPageOptions {
  readonly uid: string;
  readonly clientId: string;
  readonly login?: string;
  readonly error?: string;
  readonly usernames: readonly string[];
}

export function loginPage(opts: LoginPageOptions): string {
  const uid = encodeURIComponent(opts.uid);
  const error = opts.error === undefined ? '' : `<p class="error">${escapeHtml(opts.error)}</p>`;
  return layout(
    'Sign-in',
    `<p>Development IdP: sign in to <strong>${escapeHtml(opts.clientId)}</strong>.</p>${error}` +
      `<form method="post" action="/interaction/${uid}/login" autocomplete="off">` +
      `<input name="login" placeholder="username" required autofocus value="${escapeHtml(opts.login ?? '')}">` +
      '<input name="password" type="password" placeholder="password" required>' +
      '<button type="submit">Sign in</button></form>' +
      `<p class="hint">Demo users: ${opts.usernames.map(escapeHtml).join(', ')}.</p>` +
      `<p><a href="/interaction/${uid}/abort">Cancel</a></p>`,
  );
}

export function errorPage(fields: Readonly<Record<string, unknown>>): string {
  const rows = Object.entries(fields)
    .filter(([key]) => key === 'error' || key === 'error_description')
    .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(String(value))}</p>`)
    .join('');
  return layout('Something went wrong', rows);
}

/** `form` is the provider's own hidden logout form (id `op.logoutForm`), trusted markup. */
export function logoutPage(form: string): string {
  return layout(
    'Sign out',
    `<p>Do you want to sign out of the development IdP?</p>${form}` +
      '<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>' +
      '<button type="submit" form="op.logoutForm">No, stay signed in</button>',
  );
}

export function loggedOutPage(): string {
  return layout('Signed out', '<p>You are signed out of the development IdP.</p>');
}

export function plainPage(title: string, message: string): string {
  return layout(title, `<p>${escapeHtml(message)}</p>`);
}
