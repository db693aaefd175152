import type { ProducerMetrics } from "../pipeline/producer-metrics.ts";
import { producerMetricsText } from "../pipeline/producer-metrics.ts";
import type { SkipTracker, StalePair } from "../pipeline/skip-tracker.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../status/metrics.ts";

/** The producer's /healthz body: ok (200), or stale / degraded (503). */
export type ProducerHealthReport =
  | { status: "ok"; lastSuccessAgeS: number }
  | { status: "stale"; lastSuccessAgeS: number }
  | { status: "degraded"; lastSuccessAgeS: number; stalePairs: StalePair[] };

/** The producer's tiny health server. */
export interface ProducerHealth {
  /** The port it listens on (the one asked for, or the one picked for port 0). */
  port: number;
  /** What /healthz answers now. */
  report(): ProducerHealthReport;
  stop(): void;
}

/**
 * Serves the producer's GET /healthz (Fly's machine check) and GET /metrics (Prometheus text). /healthz is
 * "stale" (503) once no cycle succeeded within 2 x FETCH_INTERVAL plus `graceMs` (counted from the start
 * before the first success), "degraded" (503, naming the pairs) while cycles succeed but a pair has had no
 * tick published for as long (an unknown id in ASSETS never has), and "ok" (200) otherwise. The same window
 * for both means a pair is never degraded in its first two intervals. Default hostname 127.0.0.1 (HOST), clock Date.now.
 * @example const health = serveProducerHealth({ port: 8081, intervalMs: 600_000, graceMs: 60_000, metrics, pairs });
 */
export function serveProducerHealth(options: {
  port: number;
  hostname?: string;
  intervalMs: number;
  graceMs: number;
  /**
   * The publishing rule's HEARTBEAT, when one runs: a flat price is published only that often, so a pair counts
   * as degraded past 2 x the longer of it and the interval, plus `graceMs`. Default none.
   */
  heartbeatMs?: number | null;
  /** The counters the cycles update: their last success and everything /metrics shows. */
  metrics: ProducerMetrics;
  /** The loop's skip tracker: which pairs published nothing for too long. */
  pairs: SkipTracker;
  now?: () => number;
}): ProducerHealth {
  const { metrics, pairs } = options;
  const now = options.now ?? Date.now;
  const started = now();
  const windowMs = 2 * options.intervalMs + options.graceMs;
  const pairWindowMs = 2 * Math.max(options.intervalMs, options.heartbeatMs ?? 0) + options.graceMs;
  const report = (): ProducerHealthReport => {
    const ageMs = now() - (metrics.lastSuccessAt ?? started);
    const lastSuccessAgeS = Math.round(ageMs / 1000);
    if (ageMs > windowMs) return { status: "stale", lastSuccessAgeS };
    const stalePairs = pairs.stale(pairWindowMs);
    return stalePairs.length > 0
      ? { status: "degraded", lastSuccessAgeS, stalePairs }
      : { status: "ok", lastSuccessAgeS };
  };
  const server = Bun.serve({
    port: options.port,
    hostname: options.hostname ?? "127.0.0.1",
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/healthz") {
        const body = report();
        return Response.json(body, { status: body.status === "ok" ? 200 : 503 });
      }
      if (path === "/metrics")
        return new Response(producerMetricsText(metrics, now()), {
          headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
        });
      return new Response("not found\n", { status: 404 });
    },
  });
  return {
    port: server.port ?? options.port,
    report,
    stop: () => void server.stop(true),
  };
}
