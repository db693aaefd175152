// The producer as producer.ts wires it, minus Kafka and CoinGecko: the loop on a fake source and the
// in-process bus, with its health server on a free local port, read over HTTP like Fly and Prometheus do.
import { describe, expect, test } from "bun:test";
import { createLocalBus } from "../lib/adapters/local-bus/bus.ts";
import { createLogger } from "../lib/log.ts";
import { runProducerLoop } from "../lib/pipeline/produce-loop.ts";
import { createProducerMetrics } from "../lib/pipeline/producer-metrics.ts";
import { createSkipTracker } from "../lib/pipeline/skip-tracker.ts";
import type { PriceSource } from "../lib/ports.ts";
import { serveProducerHealth } from "../lib/run/producer-health.ts";
import { parsePrometheus } from "./support/prometheus.ts";
import { makeTick } from "./support/ticks.ts";

const INTERVAL_MS = 100;
const GRACE_MS = 50;

/** Polls `probe` until it returns a value, or fails after `timeoutMs`. */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms`);
    await Bun.sleep(20);
  }
}

describe("producer service", () => {
  test("an unknown id in ASSETS: one warn line, ok at first, then degraded naming the pair; stale once stopped", async () => {
    const lines: { level: string; msg: string; pair?: string }[] = [];
    const log = createLogger({ sink: (line) => lines.push(JSON.parse(line)) });
    let fetches = 0;
    const source: PriceSource = {
      fetch: async () => {
        fetches++;
        return {
          ticks: [makeTick({}, fetches % 60)],
          skipped: [{ asset: "nosuchcoin", currency: "usd", reason: "unknown id" }],
        };
      },
    };
    const bus = createLocalBus();
    const metrics = createProducerMetrics();
    const pairs = createSkipTracker({
      log,
      configured: { assets: ["beldex", "nosuchcoin"], currencies: ["usd"] },
    });
    const health = serveProducerHealth({
      port: 0,
      hostname: "127.0.0.1",
      intervalMs: INTERVAL_MS,
      graceMs: GRACE_MS,
      metrics,
      pairs,
    });
    const base = `http://127.0.0.1:${health.port}`;
    const healthz = async () => {
      const response = await fetch(`${base}/healthz`);
      return { status: response.status, body: await response.json() };
    };
    const controller = new AbortController();
    const loop = runProducerLoop({
      source,
      publisher: bus.publisher,
      log,
      signal: controller.signal,
      intervalMs: INTERVAL_MS,
      once: false,
      metrics,
      pairs,
    });
    try {
      await eventually(async () => (metrics.cycles.ok >= 1 ? true : undefined));
      // Well inside the first two intervals, the pair that never published is not yet held against anyone.
      expect(await healthz()).toMatchObject({ status: 200, body: { status: "ok" } });

      const degraded = await eventually(async () => {
        const answer = await healthz();
        return answer.body.status === "degraded" ? answer : undefined;
      });
      expect(degraded.status).toBe(503);
      expect(degraded.body.stalePairs).toEqual([
        { pair: "nosuchcoin:usd", reason: "unknown id", lastPublishedAgeS: null },
      ]);

      const response = await fetch(`${base}/metrics`);
      expect(response.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
      const families = parsePrometheus(await response.text());
      const value = (name: string, labels: Record<string, string> = {}) =>
        families.get(name)?.samples.find((s) => JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
      const ok = value("belly_producer_cycles_total", { outcome: "ok" }) ?? 0;
      expect(ok).toBeGreaterThanOrEqual(2);
      expect(value("belly_producer_cycles_total", { outcome: "failed" })).toBe(0);
      expect(value("belly_producer_ticks_skipped_total", { reason: "unknown id" })).toBeGreaterThanOrEqual(
        ok,
      );
      expect(value("belly_producer_ticks_published_total")).toBeGreaterThanOrEqual(ok);
      expect(value("belly_producer_last_success_age_seconds")).toBeLessThan(1);
      expect(value("belly_producer_outbox_ticks")).toBe(0);
    } finally {
      controller.abort();
      await loop;
    }
    // Every acknowledged tick is on the bus, waiting for a consumer.
    expect(bus.pending()).toBe(metrics.ticksPublished);
    // Many cycles skipped the pair; the log said so at warn level once.
    expect(lines.filter((l) => l.level === "warn")).toEqual([
      expect.objectContaining({ pair: "nosuchcoin:usd", reason: "unknown id" }),
    ]);

    // With the loop stopped, no cycle succeeds any more: the check turns stale.
    try {
      const stale = await eventually(async () => {
        const answer = await healthz();
        return answer.body.status === "stale" ? answer : undefined;
      });
      expect(stale.status).toBe(503);
    } finally {
      health.stop();
    }
  });
});
