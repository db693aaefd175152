// The Prometheus text exposition format (version 0.0.4), for the producer's and the consumer's /metrics.

/** One metric family: its HELP and TYPE lines, then one line per sample. */
export interface MetricFamily {
  name: string;
  type: "counter" | "gauge" | "histogram";
  help: string;
  /**
   * Empty while the value is unknown (or no label value was seen yet): HELP and TYPE are still written. A
   * histogram's samples are its `_bucket`, `_sum` and `_count` series, as {@link histogramSamples} makes them.
   */
  samples: { labels?: Record<string, string>; value: number; suffix?: "_bucket" | "_sum" | "_count" }[];
}

/** A Prometheus histogram: cumulative counts per upper bound, the sum and the count, per label set. */
export interface Histogram {
  /** Counts one observation (seconds, bytes…) under `labels`. */
  observe(value: number, labels?: Record<string, string>): void;
  /** Its series, ready for a {@link MetricFamily} of type histogram. */
  samples(): MetricFamily["samples"];
}

/** Upper bounds, in seconds, for the duration of a sink write or a batch: 1 ms to 30 s. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * A histogram over `buckets` (ascending upper bounds; +Inf is added), one series per label set seen.
 * Default buckets {@link DURATION_BUCKETS}.
 * @example const h = createHistogram(); h.observe(0.004, { sink: "history" }); h.samples();
 */
export function createHistogram(buckets: readonly number[] = DURATION_BUCKETS): Histogram {
  const series = new Map<
    string,
    { labels: Record<string, string>; counts: number[]; sum: number; count: number }
  >();
  return {
    observe(value, labels = {}) {
      const key = JSON.stringify(labels);
      let entry = series.get(key);
      if (!entry) {
        entry = { labels, counts: buckets.map(() => 0), sum: 0, count: 0 };
        series.set(key, entry);
      }
      for (let i = 0; i < buckets.length; i++)
        if (value <= (buckets[i] as number)) (entry.counts[i] as number)++;
      entry.sum += value;
      entry.count++;
    },
    samples() {
      return [...series.values()].flatMap(({ labels, counts, sum, count }) => [
        ...buckets.map((le, i) => ({
          suffix: "_bucket" as const,
          labels: { ...labels, le: formatValue(le) },
          value: counts[i] as number,
        })),
        { suffix: "_bucket" as const, labels: { ...labels, le: "+Inf" }, value: count },
        { suffix: "_sum" as const, labels, value: sum },
        { suffix: "_count" as const, labels, value: count },
      ]);
    },
  };
}

// Prometheus reads Go float syntax: integers as is, and the special values spelled its way.
function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/**
 * A label value as the format quotes it: backslash, double quote and line feed escaped.
 * @example escapeLabelValue('say "hi"\n') // 'say \\"hi\\"\\n'
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

// HELP text escapes only backslash and line feed (a quote is fine there).
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function sampleLine(name: string, labels: Record<string, string> | undefined, value: number): string {
  const pairs = Object.entries(labels ?? {}).map(([key, text]) => `${key}="${escapeLabelValue(text)}"`);
  return `${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`;
}

/**
 * The exposition text of metric families, in the order given, ending with a line feed.
 * @example formatExposition([{ name: "x_total", type: "counter", help: "X.", samples: [{ value: 1 }] }])
 * // "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n"
 */
export function formatExposition(families: readonly MetricFamily[]): string {
  const lines = families.flatMap(({ name, type, help, samples }) => [
    `# HELP ${name} ${escapeHelp(help)}`,
    `# TYPE ${name} ${type}`,
    ...samples.map((sample) => sampleLine(`${name}${sample.suffix ?? ""}`, sample.labels, sample.value)),
  ]);
  return `${lines.join("\n")}\n`;
}
