import { processMetrics } from "../process-metrics.ts";
import { formatExposition, type MetricFamily } from "../prometheus-text.ts";
import type { GateCounts } from "./tick-gate.ts";

/** Counters of the producer, updated by each cycle and served on HEALTH_PORT's /metrics. */
export interface ProducerMetrics {
  /** Cycles that published (ok) and cycles that threw (failed); a cycle cut short by the stop is neither. */
  cycles: { ok: number; failed: number };
  /** Ticks the bus acknowledged, those resent from the outbox included. */
  ticksPublished: number;
  /** Pairs a source answer skipped, by reason, summed over cycles. */
  skipped: Map<string, number>;
  /** Fetches of the source that failed as a whole. */
  sourceErrors: number;
  /** Publishes the bus refused. */
  publishErrors: number;
  /** Wall time (epoch ms) of the last successful cycle, or null before the first. */
  lastSuccessAt: number | null;
  /** Ticks held for the next cycle after a failed publish. */
  outboxSize: number;
  /** Backfill and gap healing: windows fetched and published, windows failed, ticks published. */
  backfill: { windows: number; failedWindows: number; ticks: number };
  /** Gaps in a pair's ticks (longer than two intervals) that a backfill window filled. */
  gapsHealed: number;
  /** The CoinGecko request budget, when the producer has one: calls spent, most in a minute, the limit. */
  requestBudget: { readonly spent: number; readonly peak: number; readonly callsPerMinute: number } | null;
  /** What the publishing rule and the guard did, when a gate runs (issue 13); its families appear only then. */
  gate?: Readonly<GateCounts>;
  /** The stream's state, with COINGECKO_STREAM=true; its families appear only then. */
  stream?: { live: boolean; drops: number; polls: number };
}

/** Fresh zeroed counters. */
export function createProducerMetrics(): ProducerMetrics {
  return {
    cycles: { ok: 0, failed: 0 },
    ticksPublished: 0,
    skipped: new Map(),
    sourceErrors: 0,
    publishErrors: 0,
    lastSuccessAt: null,
    outboxSize: 0,
    backfill: { windows: 0, failedWindows: 0, ticks: 0 },
    gapsHealed: 0,
    requestBudget: null,
  };
}

/**
 * The producer's metrics in the Prometheus text format; the last-success age is left out before the first
 * successful cycle, and the skip counter has no sample before the first skip.
 * @example producerMetricsText(metrics, Date.now()) // "# HELP belly_producer_cycles_total …\n…"
 */
export function producerMetricsText(metrics: ProducerMetrics, now: number): string {
  const families: MetricFamily[] = [
    {
      name: "belly_producer_cycles_total",
      type: "counter",
      help: "Producer cycles by outcome: ok published, failed threw (source or bus).",
      samples: [
        { labels: { outcome: "ok" }, value: metrics.cycles.ok },
        { labels: { outcome: "failed" }, value: metrics.cycles.failed },
      ],
    },
    {
      name: "belly_producer_ticks_published_total",
      type: "counter",
      help: "Ticks the bus acknowledged, resent ones included.",
      samples: [{ value: metrics.ticksPublished }],
    },
    {
      name: "belly_producer_ticks_skipped_total",
      type: "counter",
      help: "Pairs the source answer could not turn into a tick, by reason.",
      samples: [...metrics.skipped].map(([reason, value]) => ({ labels: { reason }, value })),
    },
    {
      name: "belly_producer_source_errors_total",
      type: "counter",
      help: "Source fetches that failed as a whole (after their retries).",
      samples: [{ value: metrics.sourceErrors }],
    },
    {
      name: "belly_producer_publish_errors_total",
      type: "counter",
      help: "Publishes the bus refused.",
      samples: [{ value: metrics.publishErrors }],
    },
    {
      name: "belly_producer_last_success_age_seconds",
      type: "gauge",
      help: "Seconds since the last successful cycle when scraped.",
      samples:
        metrics.lastSuccessAt === null ? [] : [{ value: Math.max(0, now - metrics.lastSuccessAt) / 1000 }],
    },
    {
      name: "belly_producer_outbox_ticks",
      type: "gauge",
      help: "Ticks held for the next cycle after a failed publish.",
      samples: [{ value: metrics.outboxSize }],
    },
    {
      name: "belly_producer_backfill_windows_total",
      type: "counter",
      help: "Price history windows of backfill and gap healing, by outcome (one request each, retries aside).",
      samples: [
        { labels: { outcome: "ok" }, value: metrics.backfill.windows },
        { labels: { outcome: "failed" }, value: metrics.backfill.failedWindows },
      ],
    },
    {
      name: "belly_producer_backfill_ticks_total",
      type: "counter",
      help: "Ticks from CoinGecko's price history (source coingecko-chart) the bus acknowledged.",
      samples: [{ value: metrics.backfill.ticks }],
    },
    {
      name: "belly_producer_gaps_healed_total",
      type: "counter",
      help: "Gaps longer than two intervals in a pair's ticks that were filled from the price history.",
      samples: [{ value: metrics.gapsHealed }],
    },
  ];
  const budget = metrics.requestBudget;
  if (budget)
    families.push(
      {
        name: "belly_producer_coingecko_requests_total",
        type: "counter",
        help: "CoinGecko requests made (every attempt, failed ones included).",
        samples: [{ value: budget.spent }],
      },
      {
        name: "belly_producer_coingecko_requests_peak_per_minute",
        type: "gauge",
        help: "Most CoinGecko requests within any minute so far; never above the limit.",
        samples: [{ value: budget.peak }],
      },
      {
        name: "belly_producer_coingecko_calls_per_minute_limit",
        type: "gauge",
        help: "The request budget: COINGECKO_CALLS_PER_MINUTE or the plan's default.",
        samples: [{ value: budget.callsPerMinute }],
      },
    );
  if (metrics.stream)
    families.push(
      {
        name: "belly_producer_stream_live",
        type: "gauge",
        help: "1 while CoinGecko's stream is subscribed, 0 while REST polls stand in for it.",
        samples: [{ value: metrics.stream.live ? 1 : 0 }],
      },
      {
        name: "belly_producer_stream_drops_total",
        type: "counter",
        help: "Times the live stream went down (each reconnects with backoff).",
        samples: [{ value: metrics.stream.drops }],
      },
      {
        name: "belly_producer_stream_polls_total",
        type: "counter",
        help: "REST polls made because the stream was down or left a pair silent for an interval.",
        samples: [{ value: metrics.stream.polls }],
      },
    );
  if (metrics.gate)
    families.push({
      name: "belly_producer_gate_readings_total",
      type: "counter",
      help: "Readings by what the gate did: admitted, unchanged (publishing rule), stale, held and rejected (guard).",
      samples: Object.entries(metrics.gate).map(([outcome, value]) => ({ labels: { outcome }, value })),
    });
  return formatExposition([...families, ...processMetrics()]);
}
