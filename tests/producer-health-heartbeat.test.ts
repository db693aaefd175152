// The producer's /healthz under a publishing rule: a flat price is published once per HEARTBEAT, so a pair is
// degraded only past twice the longer of HEARTBEAT and FETCH_INTERVAL; "stale" still counts the interval.
import { afterEach, describe, expect, test } from "bun:test";
import { silentLogger } from "../lib/log.ts";
import { createProducerMetrics } from "../lib/pipeline/producer-metrics.ts";
import { createSkipTracker } from "../lib/pipeline/skip-tracker.ts";
import { type ProducerHealth, serveProducerHealth } from "../lib/run/producer-health.ts";

const SECOND = 1_000;
let server: ProducerHealth | undefined;
afterEach(() => server?.stop());

describe("producer /healthz with HEARTBEAT", () => {
  test("10 s polls and a 10-minute heartbeat: ok while the pair is quiet, degraded past 2 x 10 min + grace", () => {
    let now = Date.parse("2026-11-26T18:00:00Z");
    const clock = () => now;
    const metrics = createProducerMetrics();
    const pairs = createSkipTracker({
      log: silentLogger,
      configured: { assets: ["bitcoin"], currencies: ["usd"] },
      now: clock,
    });
    server = serveProducerHealth({
      port: 0,
      hostname: "127.0.0.1",
      intervalMs: 10 * SECOND,
      heartbeatMs: 600 * SECOND,
      graceMs: 60 * SECOND,
      metrics,
      pairs,
      now: clock,
    });
    const cycle = (published: string[]) => {
      metrics.cycles.ok++;
      metrics.lastSuccessAt = now;
      pairs.observe({ publishedPairs: published, skipped: [] });
    };
    cycle(["bitcoin:usd"]);
    // Cycles go on every 10 s; the rule keeps the flat price back.
    for (let s = 10; s <= 1_260; s += 10) {
      now += 10 * SECOND;
      cycle([]);
    }
    expect(server.report().status).toBe("ok");
    now += 10 * SECOND;
    cycle([]);
    expect(server.report()).toMatchObject({ status: "degraded", stalePairs: [{ pair: "bitcoin:usd" }] });
    // No cycle at all for 2 x 10 s + grace is stale, heartbeat or not.
    now += 81 * SECOND;
    expect(server.report().status).toBe("stale");
  });
});
