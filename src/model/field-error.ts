export type FieldPath = readonly (string | number)[];

/** A problem in outside input, pointing at the field that is wrong. */
export interface FieldError {
  readonly path: FieldPath;
  readonly message: string;
}

/** `spec.proxies[3].region` */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(root)';
}
