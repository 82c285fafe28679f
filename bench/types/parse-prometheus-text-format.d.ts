// Types for parse-prometheus-text-format 1.1.1 (CommonJS, ships none). Values stay strings as the library returns them.
declare module 'parse-prometheus-text-format' {
  namespace parsePrometheusTextFormat {
    interface Sample {
      value?: string;
      labels?: Record<string, string>;
      timestamp_ms?: string;
      count?: string;
      sum?: string;
      buckets?: Record<string, string>;
      quantiles?: Record<string, string>;
    }
    interface MetricFamily {
      name: string;
      help: string;
      type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED' | string;
      metrics: Sample[];
    }
  }
  /** Throws `InvalidLineError` on some malformed lines; accepts much that is not exposition text. */
  function parsePrometheusTextFormat(text: string): parsePrometheusTextFormat.MetricFamily[];
  export = parsePrometheusTextFormat;
}
