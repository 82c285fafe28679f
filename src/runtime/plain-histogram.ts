import type { Metric, Registry } from 'prom-client';

/** What prom-client's registry reads from a metric at scrape time. */
export interface HistogramSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: readonly { readonly metricName: string; readonly labels: Readonly<Record<string, string | number>>; readonly value: number }[];
}

/**
 * An unlabelled histogram for a hot path: an observation bumps plain numbers, and the
 * registry reads the cumulative buckets at scrape time (prom-client's own observe hashes
 * labels and allocates per call, which costs as much as the work being measured).
 */
export class PlainHistogram {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    this.counts = new Float64Array(bounds.length);
    // The registry reads any metric by its name, help, type and get(); it is typed for its own classes only.
    registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= (this.bounds[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        return;
      }
    }
  }

  async get(): Promise<HistogramSnapshot> {
    let cumulative = 0;
    const buckets = this.bounds.map((le, i) => {
      cumulative += this.counts[i] as number;
      return { metricName: `${this.name}_bucket`, labels: { le }, value: cumulative };
    });
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [
        ...buckets,
        { metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: this.count },
        { metricName: `${this.name}_sum`, labels: {}, value: this.sum },
        { metricName: `${this.name}_count`, labels: {}, value: this.count },
      ],
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
