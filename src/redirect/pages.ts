/** The page a user sees when no proxy can take them: says so plainly, and retries by itself. */
export function unavailablePage(retryAfterSeconds: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${retryAfterSeconds}">
<title>Login temporarily unavailable</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#1f2328}h1{font-size:1.4rem}</style>
</head>
<body>
<h1>No access proxy is available right now</h1>
<p>Every Teleport proxy is down, starting or being upgraded, so there is nowhere safe to send you.
This page tries again every ${retryAfterSeconds} seconds. If it persists, contact your platform team.</p>
</body>
</html>
`;
}
