const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#1f2328}h1{font-size:1.4rem}';

/** The public listener's pages: one plain shell that refreshes by itself. Callers pass escaped text only. */
function page(title: string, refresh: string, heading: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${refresh}">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${heading}</h1>
${body}
</body>
</html>
`;
}

/** The page a user sees when no proxy can take them: says so plainly, and retries by itself. */
export function unavailablePage(retryAfterSeconds: number): string {
  return page(
    'Login temporarily unavailable',
    String(retryAfterSeconds),
    'No access proxy is available right now',
    `<p>Every Teleport proxy is down, starting or being upgraded, so there is nowhere safe to send you.
This page tries again every ${retryAfterSeconds} seconds. If it persists, contact your platform team.</p>`,
  );
}

const HTML_ESCAPES: Readonly<Record<string, string>> = Object.freeze({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' });
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/** Seconds the canary refusal page waits before sending the user on to the ordinary login redirect. */
export const CANARY_REFUSED_REFRESH_SECONDS = 5;

/**
 * The page of a refused canary invitation: why, in the fixed words of the check (never the
 * token), and on to the ordinary login redirect by itself.
 */
export function canaryRefusedPage(message: string): string {
  return page(
    'Canary invitation refused',
    `${CANARY_REFUSED_REFRESH_SECONDS};url=/`,
    'This canary invitation cannot be used',
    `<p>${escapeHtml(message)}</p>
<p>You will be taken to the usual login in ${CANARY_REFUSED_REFRESH_SECONDS} seconds, or <a href="/">continue now</a>.</p>`,
  );
}
