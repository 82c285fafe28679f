/** Injected time source (epoch milliseconds); core code never calls Date.now(). */
export interface Clock {
  now(): number;
}
