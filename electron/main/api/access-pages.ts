// The two pages the host shows instead of the app: the one that swaps the token in the address
// for the session cookie, and the refusal that says how to get in.
import type { AccessProblem } from './host-guard';

/**
 * The answer to a request whose query carries the right token (sent with the Set-Cookie of the
 * session): a page that at once loads the same address without the token. A refresh rather
 * than a 303 redirect, because the browser treats a redirect as part of the navigation that led
 * to it: opened from a link on another site, Chromium withholds the SameSite=Strict cookie from
 * the redirected request and from every reload after it, and the user would land on the
 * refusal. The refresh is a navigation of this page, same-site, so the cookie goes with it. It
 * also replaces the history entry, so going Back does not return to the token.
 */
export function exchangePage(host: string, url: URL): string {
  const rest = new URLSearchParams(url.searchParams);
  rest.delete('token');
  const query = rest.toString();
  // Absolute, on the Host already checked: a path like //evil.example stays a path of this host.
  const href = escapeHtml(`http://${host.toLowerCase()}${url.pathname}${query ? `?${query}` : ''}`);
  return page(
    'Opening Loom…',
    `<meta http-equiv="refresh" content="0; url=${href}">`,
    `<h1>Opening Loom…</h1><p>This browser has access now. <a href="${href}">Continue</a> if the page does not go on by itself.</p>`,
  );
}

const EXPLANATIONS: Record<AccessProblem, (port: number) => string> = {
  'no token': () => 'This browser has not been given access to this Loom host.',
  'wrong token': () => 'The token in this address is not the one this Loom host printed. Each start of <code>loom ui</code> makes a new token.',
  'stale session': (port) => `This browser's access to port ${port} is from an earlier start of <code>loom ui</code>. Each start makes a new token.`,
};

/** The 403 page: what is wrong, and where the right address is. Never the token itself. */
export function refusedPage(port: number, problem: AccessProblem): string {
  const retry =
    problem === 'no token'
      ? '<p class="note">Opened it in this browser already, and came here by a link from another site? Browsers hold the access ' +
        'cookie back from such links: <a href="/">open Loom from here</a>.</p>'
      : '';
  return page(
    'Loom: access token needed',
    '',
    `<h1>Access token needed</h1><p>${EXPLANATIONS[problem](port)}</p>` +
      `<p>Open the address that <code>loom ui</code> (or <code>npm run serve</code>) printed in its terminal:</p>` +
      `<pre>http://127.0.0.1:${port}/?token=…</pre>` +
      '<p>The page swaps the token for a cookie of this browser and drops it from the address bar; reloading needs no token after that.</p>' +
      retry,
  );
}

function page(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>${head}
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { color-scheme: light dark; font: 15px/1.5 system-ui, sans-serif; }
  body { max-width: 40rem; margin: 15vh auto; padding: 0 1.5rem; }
  h1 { font-size: 1.3rem; margin: 0 0 1rem; }
  pre, code { font-family: ui-monospace, monospace; font-size: 0.9em; }
  pre { padding: 0.6rem 0.8rem; border-radius: 6px; background: rgb(127 127 127 / 0.15); }
  .note { opacity: 0.75; font-size: 0.9em; }
</style></head>
<body>${body}</body></html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
