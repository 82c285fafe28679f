export { createHookRunner, DEFAULT_HOOK_TIMEOUT, type HookRunnerDeps } from './hook-runner.js';
export { runCommand, type RunCommand, type RunOptions, type CommandOutcome } from './run-command.js';
export { readSecret, type ReadSecret } from './read-secret.js';
export { signatureOf, signedJsonHeaders } from './sign.js';
export { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF, type Backoff } from './post-json.js';
