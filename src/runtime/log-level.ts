import type { Logger } from 'pino';

/**
 * The quieter of `level` and the logger's own: a listener that logs only failures at `warn` must
 * not be louder than an operator's MERIDIAN_LOG_LEVEL=error (a child's level overrides its parent's).
 */
export function quieterLevel(log: Logger, level: 'warn'): string {
  return log.levelVal > log.levels.values[level]! ? log.level : level;
}
