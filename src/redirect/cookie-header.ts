/**
 * One cookie's value from a Cookie header, without parsing the rest of it. Headers without it
 * are passed over with one substring search: the login redirect reads two cookies per request.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header || !header.includes(`${name}=`)) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
