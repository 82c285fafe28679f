import { Type, type SchemaOptions } from '@sinclair/typebox';

/** A count (1 or more) or a percent (`25%`, 1% to 100%) of a group's size. */
export const CountOrPercentSchema = (options?: SchemaOptions) => Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^([1-9][0-9]?|100)%$' })], options);

/** How many of a group of `size`: a count as it is, a percent rounded down but at least 1. */
export function countOf(value: number | string, size: number): number {
  return typeof value === 'number' ? value : Math.max(1, Math.floor((size * Number(value.slice(0, -1))) / 100));
}
