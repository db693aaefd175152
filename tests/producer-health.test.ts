import { afterEach, describe, expect, test } from "bun:test";
import { silentLogger } from "../lib/log.ts";
import { createProducerMetrics, producerMetricsText } from "../lib/pipeline/producer-metrics.ts";
import { createSkipTracker } from "../lib/pipeline/skip-tracker.ts";
import { escapeLabelValue, formatExposition } from "../lib/prometheus-text.ts";
import { type ProducerHealth, serveProducerHealth } from "../lib/run/producer-health.ts";
import { parsePrometheus } from "./support/prometheus.ts";

const MINUTE = 60_000;
/** Window of these tests: 2 x 10 min + 1 min grace. */
const WINDOW = 21 * MINUTE;

let servers: ProducerHealth[] = [];
afterEach(() => {
  for (const server of servers) server.stop();
  servers = [];
});

/** A health server on a free local port, its tracker and metrics, all on one hand-moved clock. */
function setup(configured = { assets: ["beldex", "nosuchcoin"], currencies: ["usd"] }) {
  let now = Date.parse("2026-11-26T18:00:00Z");
  const clock = () => now;
  const metrics = createProducerMetrics();
  const pairs = createSkipTracker({ log: silentLogger, configured, now: clock });
  const health = serveProducerHealth({
    port: 0,
    hostname: "127.0.0.1",
    intervalMs: 10 * MINUTE,
    graceMs: MINUTE,
    metrics,
    pairs,
    now: clock,
  });
  servers.push(health);
  const url = (path: string) => `http://127.0.0.1:${health.port}${path}`;
  return {
    metrics,
    pairs,
    advance: (ms: number) => {
      now += ms;
    },
    /** A successful cycle now: beldex:usd published, nosuchcoin:usd skipped as unknown. */
    cycle: (skipped = [{ pair: "nosuchcoin:usd", reason: "unknown id" }]) => {
      metrics.cycles.ok++;
      metrics.lastSuccessAt = now;
      pairs.observe({ publishedPairs: ["beldex:usd"], skipped });
    },
    healthz: async () => {
      const response = await fetch(url("/healthz"));
      return { status: response.status, body: await response.json() };
    },
    get: (path: string) => fetch(url(path)),
  };
}

describe("producer /healthz", () => {
  test("is ok at start and stays ok through the first two intervals although a pair never published", async () => {
    const { healthz, advance, cycle } = setup();
    expect(await healthz()).toEqual({ status: 200, body: { status: "ok", lastSuccessAgeS: 0 } });
    cycle();
    advance(10 * MINUTE);
    cycle();
    advance(WINDOW - 10 * MINUTE);
    expect((await healthz()).body.status).toBe("ok");
  });

  test("is degraded (503) naming the pair and its reason once a pair published nothing for the window", async () => {
    const { healthz, advance, cycle } = setup();
    for (let minute = 0; minute <= 20; minute += 10) {
      cycle();
      advance(10 * MINUTE);
    }
    // 30 minutes since start, the last cycle 10 minutes ago: the loop is fine, one pair is not.
    expect(await healthz()).toEqual({
      status: 503,
      body: {
        status: "degraded",
        lastSuccessAgeS: 600,
        stalePairs: [{ pair: "nosuchcoin:usd", reason: "unknown id", lastPublishedAgeS: null }],
      },
    });
  });

  test("stays degraded after a cycle that does not name the stale pair", async () => {
    const { healthz, advance, cycle } = setup();
    cycle();
    advance(WINDOW + 1);
    cycle();
    expect((await healthz()).status).toBe(503);
    cycle([]);
    // Only a tick of nosuchcoin:usd itself clears it; silence about it is no news.
    expect((await healthz()).body.status).toBe("degraded");
  });

  test("a pair that recovers clears the degraded state", async () => {
    const { healthz, advance, cycle, pairs } = setup({ assets: ["beldex"], currencies: ["usd", "eur"] });
    cycle([{ pair: "beldex:eur", reason: "currency missing" }]);
    advance(WINDOW + 1);
    cycle([{ pair: "beldex:eur", reason: "currency missing" }]);
    expect((await healthz()).body).toMatchObject({
      status: "degraded",
      stalePairs: [{ pair: "beldex:eur" }],
    });
    pairs.observe({ publishedPairs: ["beldex:usd", "beldex:eur"], skipped: [] });
    expect(await healthz()).toMatchObject({ status: 200, body: { status: "ok" } });
  });

  test("is stale (503) when no cycle succeeded within the window, from the start or the last success", async () => {
    const fresh = setup();
    fresh.advance(WINDOW);
    expect((await fresh.healthz()).body.status).toBe("ok");
    fresh.advance(1);
    expect(await fresh.healthz()).toEqual({ status: 503, body: { status: "stale", lastSuccessAgeS: 1260 } });

    const stuck = setup();
    stuck.cycle();
    stuck.advance(5 * MINUTE);
    stuck.cycle();
    stuck.advance(WINDOW + MINUTE);
    // Every pair is old too, but the loop being stuck is the news.
    expect(await stuck.healthz()).toEqual({ status: 503, body: { status: "stale", lastSuccessAgeS: 1320 } });
  });

  test("answers 404 for any other path", async () => {
    const { get } = setup();
    expect((await get("/nope")).status).toBe(404);
  });
});

describe("producer /metrics", () => {
  test("serves every counter in the Prometheus text format", async () => {
    const { get, metrics, advance, cycle } = setup();
    cycle();
    metrics.cycles.failed = 2;
    metrics.ticksPublished = 7;
    metrics.skipped.set("unknown id", 3);
    metrics.sourceErrors = 1;
    metrics.publishErrors = 1;
    metrics.outboxSize = 4;
    metrics.backfill = { windows: 6, failedWindows: 1, ticks: 2949 };
    metrics.gapsHealed = 3;
    metrics.requestBudget = { spent: 9, peak: 5, callsPerMinute: 5 };
    advance(90_000);
    const response = await get("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const families = parsePrometheus(await response.text());
    // The process_* families are the standard ones (tests/prometheus-histogram.test.ts); these are the producer's own.
    expect(families.get("process_resident_memory_bytes")?.samples).toHaveLength(1);
    const values = Object.fromEntries(
      [...families]
        .filter(([name]) => name.startsWith("belly_"))
        .map(([name, family]) => [name, family.samples.map((s) => [s.labels, s.value])]),
    );
    expect(values).toEqual({
      belly_producer_cycles_total: [
        [{ outcome: "ok" }, 1],
        [{ outcome: "failed" }, 2],
      ],
      belly_producer_ticks_published_total: [[{}, 7]],
      belly_producer_ticks_skipped_total: [[{ reason: "unknown id" }, 3]],
      belly_producer_source_errors_total: [[{}, 1]],
      belly_producer_publish_errors_total: [[{}, 1]],
      belly_producer_last_success_age_seconds: [[{}, 90]],
      belly_producer_outbox_ticks: [[{}, 4]],
      belly_producer_backfill_windows_total: [
        [{ outcome: "ok" }, 6],
        [{ outcome: "failed" }, 1],
      ],
      belly_producer_backfill_ticks_total: [[{}, 2949]],
      belly_producer_gaps_healed_total: [[{}, 3]],
      belly_producer_coingecko_requests_total: [[{}, 9]],
      belly_producer_coingecko_requests_peak_per_minute: [[{}, 5]],
      belly_producer_coingecko_calls_per_minute_limit: [[{}, 5]],
    });
    for (const [name, family] of families) {
      expect(family.help.length).toBeGreaterThan(0);
      expect(family.type).toBe(name.endsWith("_total") ? "counter" : "gauge");
    }
  });

  test("before any cycle, keeps HELP and TYPE of every family and leaves out the unknown values", () => {
    const families = parsePrometheus(producerMetricsText(createProducerMetrics(), 0));
    // The budget's families come with a budget only (a producer always has one).
    expect([...families.keys()].filter((name) => name.startsWith("belly_"))).toHaveLength(10);
    expect(families.get("belly_producer_last_success_age_seconds")?.samples).toEqual([]);
    expect(families.get("belly_producer_ticks_skipped_total")?.samples).toEqual([]);
    expect(families.get("belly_producer_cycles_total")?.samples.map((s) => s.value)).toEqual([0, 0]);
  });

  test("escapes backslash, quote and line feed in a reason label, and a parser reads the reason back", () => {
    const metrics = createProducerMetrics();
    const reason = 'price: "Too small"\\ expected >0\nsecond line';
    metrics.skipped.set(reason, 1);
    const text = producerMetricsText(metrics, 0);
    expect(text).toContain(
      'belly_producer_ticks_skipped_total{reason="price: \\"Too small\\"\\\\ expected >0\\nsecond line"} 1\n',
    );
    expect(parsePrometheus(text).get("belly_producer_ticks_skipped_total")?.samples).toEqual([
      { labels: { reason }, value: 1 },
    ]);
  });

  test("writes special values the Go way and escapes HELP text", () => {
    expect(escapeLabelValue('a"b')).toBe('a\\"b');
    const text = formatExposition([
      { name: "x", type: "gauge", help: "one\\two\nthree", samples: [{ value: Number.POSITIVE_INFINITY }] },
      { name: "y", type: "gauge", help: "Y.", samples: [{ value: Number.NaN }, { value: -0.5 }] },
    ]);
    expect(text).toBe(
      "# HELP x one\\\\two\\nthree\n# TYPE x gauge\nx +Inf\n# HELP y Y.\n# TYPE y gauge\ny NaN\ny -0.5\n",
    );
    expect(parsePrometheus(text).get("x")?.help).toBe("one\\two\nthree");
  });
});
