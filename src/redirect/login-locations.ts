import { BoundedCache } from '../runtime/bounded-cache.js';
import { proxyOrigin, redirectSuffix } from './core/redirect-location.js';

const SUFFIX_CACHE_SIZE = 4096;
const MAX_REMEMBERED_TARGET = 512;

/**
 * The Location of a login redirect (core/redirect-location.ts), with what recurs remembered:
 * each proxy's origin and bare login URL (most requests), and each deep link's suffix (deep
 * links recur as bookmarks and shared links, and cost microseconds to check), which is the
 * same for every proxy. Longer targets are checked anew, to keep the memory small.
 */
export function loginLocations(): (publicUrl: string, target: string) => string {
  const origins = new Map<string, { readonly origin: string; readonly root: string }>();
  const suffixes = new BoundedCache<string>(SUFFIX_CACHE_SIZE);
  const suffixOf = (target: string): string => {
    if (target.length > MAX_REMEMBERED_TARGET) return redirectSuffix(target);
    let suffix = suffixes.get(target);
    if (suffix === undefined) suffixes.set(target, (suffix = redirectSuffix(target)));
    return suffix;
  };
  return (publicUrl, target) => {
    let o = origins.get(publicUrl);
    if (o === undefined) {
      const origin = proxyOrigin(publicUrl);
      origins.set(publicUrl, (o = { origin, root: `${origin}/` }));
    }
    if (target === '/') return o.root;
    const suffix = suffixOf(target);
    return suffix === '/' ? o.root : `${o.origin}${suffix}`;
  };
}
