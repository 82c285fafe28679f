import { err, ok, type Result } from '../../model/result.js';

const PLACEHOLDER = /\{([A-Za-z][A-Za-z_]*)\}/g;

/**
 * Fills `{name}` placeholders inside each element of an argv template. Each element stays one
 * argument whatever the values hold: the command runs without a shell, so `;` or `$(...)` in
 * a message is text, never syntax. An unknown placeholder is an error, not a literal.
 */
export function fillArgv(template: readonly string[], values: ReadonlyMap<string, string>): Result<string[], string> {
  const unknown = new Set<string>();
  const argv = template.map((arg) =>
    arg.replace(PLACEHOLDER, (whole, name: string) => {
      const value = values.get(name);
      if (value === undefined) unknown.add(whole);
      return value ?? whole;
    }),
  );
  if (unknown.size > 0) {
    const known = [...values.keys()].map((k) => `{${k}}`).join(' ');
    return err(`unknown placeholder ${[...unknown].join(' ')} in the command (known: ${known})`);
  }
  return ok(argv);
}
