import { describe, expect, test } from "bun:test";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { type ConsumerMetrics, createConsumerMetrics, markDown, markUp } from "../lib/pipeline/metrics.ts";
import type { LatestCache } from "../lib/ports.ts";
import { createStatusApp, type StatusDeps } from "../lib/status/app.ts";
import { makeTick } from "./support/ticks.ts";

const LAST_TICK = Date.parse(makeTick({}, 10).sourceUpdatedAt);
const INTERVAL = 60_000;

type SetupOptions = {
  at: number;
  metrics?: Partial<ConsumerMetrics>;
  lag?: number | null;
} & Partial<StatusDeps>;

async function setup({ at, metrics: counters, lag = null, ...deps }: SetupOptions) {
  const cache = createMemoryCache();
  const history = createMemoryHistory();
  const ticks = Array.from({ length: 11 }, (_, minute) => makeTick({}, minute));
  await cache.putIfNewer(ticks);
  await history.upsert(ticks);
  const metrics = { ...createConsumerMetrics(), ...counters };
  const app = createStatusApp({
    cache,
    history,
    health: () => ({ metrics, lag, startedAt: LAST_TICK - 3_600_000 }),
    fetchIntervalMs: INTERVAL,
    now: () => at,
    ...deps,
  });
  return { app, cache, history, metrics };
}

describe("GET /healthz", () => {
  test("answers 200 while the process runs, whatever the sinks say", async () => {
    const down: LatestCache = {
      ...createMemoryCache(),
      ping: async () => {
        throw new Error("down");
      },
    };
    const { app } = await setup({ at: LAST_TICK, cache: down });
    const res = await app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "alive", uptimeSeconds: 3600 });
  });
});

describe("GET /readyz", () => {
  test("is ready when both sinks answer and the newest tick is younger than twice the interval", async () => {
    const { app } = await setup({ at: LAST_TICK + 2 * INTERVAL });
    const res = await app.request("/readyz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ready: true,
      checks: { cache: "ok", history: "ok", data: "ok", consumer: "ok" },
      failed: [],
    });
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  test("is not ready once the newest tick is older than twice the interval, and says so", async () => {
    const { app } = await setup({ at: LAST_TICK + 2 * INTERVAL + 1000 });
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.failed).toEqual(["data"]);
    expect(body.checks.data).toBe("stale: newest tick 2m 01s old, limit 2m 00s");
  });

  test("counts the consumer's newest tick even when the cache kept an older one", async () => {
    const { app } = await setup({
      at: LAST_TICK + 10 * INTERVAL,
      metrics: { lastTickAt: LAST_TICK + 9 * INTERVAL },
    });
    expect((await app.request("/readyz")).status).toBe(200);
  });

  test("is not ready before the first tick", async () => {
    const app = createStatusApp({
      cache: createMemoryCache(),
      history: createMemoryHistory(),
      health: () => ({ metrics: createConsumerMetrics(), lag: null, startedAt: 0 }),
      fetchIntervalMs: INTERVAL,
    });
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect((await res.json()).checks.data).toBe("no tick yet");
  });

  test("names each sink that does not answer its ping", async () => {
    const failing = async () => {
      throw new Error("password=hunter2");
    };
    const { app } = await setup({
      at: LAST_TICK,
      cache: { ...createMemoryCache(), ping: failing },
      history: { ...createMemoryHistory(), ping: failing },
    });
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({
      ready: false,
      checks: { cache: "cache unavailable", history: "history unavailable" },
      failed: ["cache", "history", "data"],
    });
    expect(text).not.toContain("hunter2");
  });

  test("is not ready while a dependency the consumer writes to is down, and names it and its fix", async () => {
    const metrics = createConsumerMetrics();
    markDown(
      metrics,
      "history",
      {
        error: "history: upsert failed: password authentication failed",
        fix: "check the password in DATABASE_URL",
      },
      LAST_TICK - 60_000,
    );
    const { app } = await setup({ at: LAST_TICK, metrics });
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      ready: false,
      checks: {
        cache: "ok",
        history: "ok",
        data: "ok",
        consumer: "history down: check the password in DATABASE_URL",
      },
      failed: ["consumer"],
      down: [
        {
          dependency: "history",
          since: new Date(LAST_TICK - 60_000).toISOString(),
          error: "history: upsert failed: password authentication failed",
          fix: "check the password in DATABASE_URL",
        },
      ],
    });
  });

  test("names every down dependency, and says it retries when no fix is known", async () => {
    const metrics = createConsumerMetrics();
    markDown(
      metrics,
      "cache",
      { error: "cache: getaddrinfo ENOTFOUND", fix: "check UPSTASH_REDIS_REST_URL" },
      1,
    );
    markDown(metrics, "dlq", { error: "broker went away", fix: null }, 2);
    const { app } = await setup({ at: LAST_TICK, metrics });
    const body = await (await app.request("/readyz")).json();
    expect(body.checks.consumer).toBe("cache down: check UPSTASH_REDIS_REST_URL · dlq down, retrying");
    expect(body.down.map((entry: { dependency: string }) => entry.dependency)).toEqual(["cache", "dlq"]);
  });

  test("is ready again once the dependency is back up", async () => {
    const metrics = createConsumerMetrics();
    markDown(metrics, "history", { error: "down", fix: "check DATABASE_URL" }, 1);
    markUp(metrics, "history", 2);
    const { app } = await setup({ at: LAST_TICK, metrics });
    const res = await app.request("/readyz");
    expect(res.status).toBe(200);
    expect((await res.json()).down).toBeUndefined();
  });
});

describe("GET /metrics", () => {
  test("exposes the consumer's counters in the Prometheus text format", async () => {
    const base = createConsumerMetrics();
    base.batchSeconds.observe(0.25);
    base.batchSeconds.observe(0.004);
    base.sinkWriteSeconds.observe(0.003, { sink: "history" });
    const { app } = await setup({
      at: LAST_TICK + 12_500,
      lag: 7,
      metrics: {
        ...base,
        consumed: 120,
        written: 100,
        duplicates: 15,
        deadLettered: 5,
        deadLetteredBy: { ...base.deadLetteredBy, "not-json": 3, "implausible-time": 2 },
        sinkErrors: 2,
        sinkErrorsBy: { history: 2, cache: 0, dlq: 0 },
        batches: 12,
        lastBatchMs: 250,
      },
    });
    const res = await app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    const samples = Object.fromEntries(
      text
        .split("\n")
        .filter((line) => line.startsWith("belly_"))
        .map((line) => line.split(" ") as [string, string]),
    );
    expect(text).toContain("\nprocess_resident_memory_bytes ");
    const bucket = (le: string, n: number) => ({
      [`belly_batch_duration_seconds_bucket{le="${le}"}`]: String(n),
    });
    expect(samples).toEqual({
      belly_ticks_consumed_total: "120",
      belly_ticks_written_total: "100",
      belly_ticks_duplicate_total: "15",
      'belly_dlq_total{reason="empty"}': "0",
      'belly_dlq_total{reason="not-json"}': "3",
      'belly_dlq_total{reason="invalid"}': "0",
      'belly_dlq_total{reason="unknown-schema"}': "0",
      'belly_dlq_total{reason="implausible-time"}': "2",
      'belly_dlq_total{reason="key-mismatch"}': "0",
      'belly_sink_errors_total{sink="history"}': "2",
      'belly_sink_errors_total{sink="cache"}': "0",
      'belly_sink_errors_total{sink="dlq"}': "0",
      ...bucket("0.001", 0),
      ...bucket("0.0025", 0),
      ...bucket("0.005", 1),
      ...bucket("0.01", 1),
      ...bucket("0.025", 1),
      ...bucket("0.05", 1),
      ...bucket("0.1", 1),
      ...bucket("0.25", 2),
      ...bucket("0.5", 2),
      ...bucket("1", 2),
      ...bucket("2.5", 2),
      ...bucket("5", 2),
      ...bucket("10", 2),
      ...bucket("30", 2),
      ...bucket("+Inf", 2),
      belly_batch_duration_seconds_sum: "0.254",
      belly_batch_duration_seconds_count: "2",
      ...Object.fromEntries(
        text
          .split("\n")
          .filter((line) => line.startsWith("belly_sink_write_duration_seconds"))
          .map((line) => line.split(" ")),
      ),
      belly_batches_total: "12",
      belly_last_tick_age_seconds: "12.5",
      belly_consumer_lag: "7",
      belly_sink_down: "0",
      'belly_dependency_up{dependency="history"}': "1",
      'belly_dependency_up{dependency="cache"}': "1",
      'belly_dependency_up{dependency="dlq"}': "1",
      'belly_dependency_up{dependency="kafka"}': "1",
      'belly_history_gaps{asset="beldex",currency="usd"}': "0",
      'belly_history_gap_seconds{asset="beldex",currency="usd"}': "0",
    });
  });

  test("gives every metric HELP and TYPE lines in front of its sample, and ends with a newline", async () => {
    const { app } = await setup({ at: LAST_TICK });
    const text = await (await app.request("/metrics")).text();
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.trimEnd().split("\n");
    for (const [index, line] of lines.entries()) {
      if (line.startsWith("# HELP ")) {
        const name = line.split(" ")[2];
        expect(lines[index + 1]).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`));
      } else if (!line.startsWith("# TYPE ")) {
        // Prometheus sample syntax: name, optional labels, space, Go float.
        expect(line).toMatch(
          /^(belly|process)_[a-z_]+(\{[a-z_]+="[a-z+.0-9-]+"(,[a-z_]+="[a-z+.0-9-]+")*\})? (-?\d+(\.\d+)?(e[+-]?\d+)?|NaN|[+-]Inf)$/,
        );
        const name = line
          .split(" ")[0]
          ?.replace(/\{.*\}$/, "")
          .replace(/_(bucket|sum|count)$/, "");
        expect(text).toContain(`# TYPE ${name} `);
      }
    }
    for (const name of ["belly_ticks_consumed_total", "belly_dlq_total", "belly_sink_errors_total"])
      expect(text).toContain(`# TYPE ${name} counter`);
    for (const name of ["belly_last_tick_age_seconds", "belly_consumer_lag"])
      expect(text).toContain(`# TYPE ${name} gauge`);
    for (const name of ["belly_batch_duration_seconds", "belly_sink_write_duration_seconds"])
      expect(text).toContain(`# TYPE ${name} histogram`);
  });

  test("has a belly_dependency_up gauge per dependency: 0 while it is down, 1 while it is up", async () => {
    const metrics = createConsumerMetrics();
    markDown(metrics, "history", { error: "down", fix: null }, 1);
    const { app } = await setup({ at: LAST_TICK, metrics });
    const text = await (await app.request("/metrics")).text();
    expect(text).toContain(
      [
        "# HELP belly_dependency_up 1 while the dependency answers the consumer (its writes succeed; kafka: its health check), else 0.",
        "# TYPE belly_dependency_up gauge",
        'belly_dependency_up{dependency="history"} 0',
        'belly_dependency_up{dependency="cache"} 1',
        'belly_dependency_up{dependency="dlq"} 1',
        'belly_dependency_up{dependency="kafka"} 1',
      ].join("\n"),
    );
    expect(text).toMatch(/^belly_sink_down 1$/m);
  });

  test("leaves out the samples it does not know (lag, batch duration) but keeps their description", async () => {
    const { app } = await setup({ at: LAST_TICK, lag: null });
    const text = await (await app.request("/metrics")).text();
    expect(text).toContain("# TYPE belly_consumer_lag gauge");
    expect(text).not.toMatch(/^belly_consumer_lag /m);
    expect(text).toContain("# TYPE belly_batch_duration_seconds histogram");
    expect(text).not.toMatch(/^belly_batch_duration_seconds_/m);
  });
});
