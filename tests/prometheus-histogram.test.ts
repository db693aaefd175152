import { describe, expect, test } from "bun:test";
import { processMetrics } from "../lib/process-metrics.ts";
import { createHistogram, formatExposition } from "../lib/prometheus-text.ts";

describe("Prometheus histograms and process metrics", () => {
  test("a histogram counts each observation in every bucket at or above it, per label set, with +Inf, sum and count", () => {
    const h = createHistogram([0.01, 0.1, 1]);
    for (const v of [0.005, 0.05, 0.05, 2]) h.observe(v, { sink: "history" });
    h.observe(0.2, { sink: "cache" });
    const text = formatExposition([
      { name: "w_seconds", type: "histogram", help: "W.", samples: h.samples() },
    ]);
    expect(text).toBe(
      [
        "# HELP w_seconds W.",
        "# TYPE w_seconds histogram",
        'w_seconds_bucket{sink="history",le="0.01"} 1',
        'w_seconds_bucket{sink="history",le="0.1"} 3',
        'w_seconds_bucket{sink="history",le="1"} 3',
        'w_seconds_bucket{sink="history",le="+Inf"} 4',
        'w_seconds_sum{sink="history"} 2.105',
        'w_seconds_count{sink="history"} 4',
        'w_seconds_bucket{sink="cache",le="0.01"} 0',
        'w_seconds_bucket{sink="cache",le="0.1"} 0',
        'w_seconds_bucket{sink="cache",le="1"} 1',
        'w_seconds_bucket{sink="cache",le="+Inf"} 1',
        'w_seconds_sum{sink="cache"} 0.2',
        'w_seconds_count{sink="cache"} 1',
        "",
      ].join("\n"),
    );
  });

  test("process metrics carry the names Prometheus' client libraries use, with this process's values", () => {
    const families = new Map(processMetrics().map((f) => [f.name, f]));
    for (const name of [
      "process_cpu_seconds_total",
      "process_start_time_seconds",
      "process_resident_memory_bytes",
      "process_open_fds",
      "process_max_fds",
    ])
      expect(families.get(name)?.samples).toHaveLength(1);
    const rss = families.get("process_resident_memory_bytes")?.samples[0]?.value ?? 0;
    expect(rss).toBeGreaterThan(10_000_000);
    const started = families.get("process_start_time_seconds")?.samples[0]?.value ?? 0;
    expect(Date.now() / 1000 - started).toBeGreaterThan(0);
    expect(Date.now() / 1000 - started).toBeLessThan(600);
  });
});
