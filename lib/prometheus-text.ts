// The Prometheus text exposition format (version 0.0.4), for the producer's and the consumer's /metrics.

/** One metric family: its HELP and TYPE lines, then one line per sample. */
export interface MetricFamily {
  name: string;
  type: "counter" | "gauge";
  help: string;
  /** Empty while the value is unknown (or no label value was seen yet): HELP and TYPE are still written. */
  samples: { labels?: Record<string, string>; value: number }[];
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
    ...samples.map((sample) => sampleLine(name, sample.labels, sample.value)),
  ]);
  return `${lines.join("\n")}\n`;
}
