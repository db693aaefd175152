// GET /metrics: the consumer's counters in the Prometheus text exposition format (version 0.0.4).
import { DEPENDENCIES, SINKS } from "../pipeline/metrics.ts";
import { processMetrics } from "../process-metrics.ts";
import { formatExposition, type MetricFamily } from "../prometheus-text.ts";
import type { StatusSnapshot } from "./snapshot.ts";

/** Content type of the Prometheus text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

interface Metric {
  name: string;
  type: "counter" | "gauge";
  help: string;
  /** null: the value is unknown, so the sample is left out (the HELP and TYPE lines stay). */
  value: number | null;
}

/** Gaps of one pair's history over the page's default window, for `belly_history_gaps`. */
export interface PairGaps {
  asset: string;
  currency: string;
  /** Gaps longer than twice FETCH_INTERVAL in the last 24 hours. */
  count: number;
  /** Their total length, in seconds. */
  seconds: number;
}

/**
 * The exposition text of a snapshot's metrics (the tick age is left out before the first tick), with the
 * history's gaps per pair when given (a pair whose history could not be read is left out).
 * @example prometheusText(await takeSnapshot(ctx), gaps) // "# HELP belly_ticks_consumed_total …\n…"
 */
export function prometheusText({ health, freshness }: StatusSnapshot, gaps: PairGaps[] = []): string {
  const { metrics } = health;
  const list: Metric[] = [
    {
      name: "belly_ticks_consumed_total",
      type: "counter",
      help: "Messages read from the tick topic.",
      value: metrics.consumed,
    },
    {
      name: "belly_ticks_written_total",
      type: "counter",
      help: "Ticks newly inserted into the history.",
      value: metrics.written,
    },
    {
      name: "belly_ticks_duplicate_total",
      type: "counter",
      help: "Valid ticks the history already held (replays, unchanged prices).",
      value: metrics.duplicates,
    },
    {
      name: "belly_batches_total",
      type: "counter",
      help: "Batches fully processed and committed.",
      value: metrics.batches,
    },
    {
      name: "belly_last_tick_age_seconds",
      type: "gauge",
      help: "Age of the newest tick (its CoinGecko time) when scraped.",
      value: freshness.ageMs === null ? null : freshness.ageMs / 1000,
    },
    {
      name: "belly_consumer_lag",
      type: "gauge",
      help: "Messages of the tick topic not yet consumed by the group.",
      value: health.lag,
    },
    {
      name: "belly_sink_down",
      type: "gauge",
      help: "1 while any sink the consumer writes to (history, cache, DLQ) is down, else 0.",
      value: metrics.sinkDown ? 1 : 0,
    },
  ];
  const families: MetricFamily[] = list.map(({ value, ...family }) => ({
    ...family,
    samples: value === null ? [] : [{ value }],
  }));
  // Every label value known in advance is written from the start, 0 included, so that rate() sees the first one.
  families.push(
    {
      name: "belly_dlq_total",
      type: "counter",
      help: "Messages sent to the dead-letter topic, by the rule they broke.",
      samples: Object.entries(metrics.deadLetteredBy).map(([reason, value]) => ({
        labels: { reason },
        value,
      })),
    },
    {
      name: "belly_sink_errors_total",
      type: "counter",
      help: "Failed sink attempts, each retry counted, by sink.",
      samples: SINKS.map((sink) => ({ labels: { sink }, value: metrics.sinkErrorsBy[sink] })),
    },
    {
      name: "belly_batch_duration_seconds",
      type: "histogram",
      help: "Duration of each batch, from read to sinks written.",
      samples: metrics.batchSeconds.samples(),
    },
    {
      name: "belly_sink_write_duration_seconds",
      type: "histogram",
      help: "Duration of each successful sink write, by sink.",
      samples: metrics.sinkWriteSeconds.samples(),
    },
  );
  // One labelled series per dependency under a single HELP and TYPE, as Prometheus wants a family together.
  families.push({
    name: "belly_dependency_up",
    type: "gauge",
    help: "1 while the dependency answers the consumer (its writes succeed; kafka: its health check), else 0.",
    samples: DEPENDENCIES.map((name) => ({
      labels: { dependency: name },
      value: metrics.dependencies[name].up ? 1 : 0,
    })),
  });
  // Gauges, not counters: a gap leaves the window after 24 hours, and a late tick can fill one in.
  families.push(
    {
      name: "belly_history_gaps",
      type: "gauge",
      help: "Gaps longer than twice FETCH_INTERVAL in the last 24 hours of a pair's history (the page's 24h chart).",
      samples: gaps.map(({ asset, currency, count }) => ({ labels: { asset, currency }, value: count })),
    },
    {
      name: "belly_history_gap_seconds",
      type: "gauge",
      help: "Total length of those gaps in the last 24 hours of a pair's history, in seconds.",
      samples: gaps.map(({ asset, currency, seconds }) => ({ labels: { asset, currency }, value: seconds })),
    },
  );
  return formatExposition([...families, ...processMetrics()]);
}
