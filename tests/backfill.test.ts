// Backfill with in-memory fakes: the windows CoinGecko's granularity asks for, the chart answer as ticks, the
// runner (publishes, resumes by rerunning, leaves failed windows for a rerun), its progress, and the durations.
import { afterEach, describe, expect, test } from "bun:test";
import { createCoinGeckoChart } from "../lib/adapters/coingecko/chart.ts";
import { chartTicks, parseChartBody } from "../lib/adapters/coingecko/chart-response.ts";
import { chartWindows } from "../lib/adapters/coingecko/chart-windows.ts";
import { formatDuration, parseDuration } from "../lib/duration.ts";
import { SourceError } from "../lib/errors.ts";
import { createLogger, silentLogger } from "../lib/log.ts";
import { backfillJobs, runBackfill } from "../lib/pipeline/backfill.ts";
import { createBackfillProgress } from "../lib/pipeline/backfill-progress.ts";
import { createProducerMetrics } from "../lib/pipeline/producer-metrics.ts";
import { serialPublisher } from "../lib/pipeline/serial-publisher.ts";
import type { ChartSource, TickPublisher } from "../lib/ports.ts";
import { createRequestBudget } from "../lib/request-budget.ts";
import { backfillArgument } from "../lib/run/producer-args.ts";
import { type Tick, tickIdentity } from "../lib/tick.ts";
import { type FakeCoinGecko, startFakeCoinGecko } from "./support/fake-coingecko.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse("2026-11-26T18:42:10Z");

let fake: FakeCoinGecko | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function memoryPublisher(): TickPublisher & { ticks: Tick[] } {
  const ticks: Tick[] = [];
  return {
    ticks,
    async publish(batch) {
      ticks.push(...batch);
    },
    async close() {},
  };
}

describe("chart windows", () => {
  test("30 days: one hourly window up to the first whole hour of the last day, then one 5-minutely window to now", () => {
    const from = Math.floor((NOW - 30 * DAY) / HOUR) * HOUR;
    expect(chartWindows(from, NOW, NOW)).toEqual([
      { from, to: Date.parse("2026-11-25T19:00:00Z"), closed: false, granularity: "1h" },
      { from: Date.parse("2026-11-25T19:00:00Z"), to: NOW, closed: true, granularity: "5m" },
    ]);
  });

  test("spans past 90 days go in hourly windows of at most 90 days, oldest first, without gaps or overlaps", () => {
    const windows = chartWindows(NOW - 365 * DAY, NOW, NOW);
    expect(windows.map((w) => w.granularity)).toEqual(["1h", "1h", "1h", "1h", "1h", "5m"]);
    expect(windows.every((w) => w.to - w.from <= 90 * DAY)).toBe(true);
    for (let i = 1; i < windows.length; i++) expect(windows[i]?.from).toBe(windows[i - 1]?.to ?? -1);
  });

  test("a gap of two hours ending now is one 5-minutely window; a past span ending earlier is hourly and closed", () => {
    expect(chartWindows(NOW - 2 * HOUR, NOW, NOW)).toEqual([
      { from: NOW - 2 * HOUR, to: NOW, closed: true, granularity: "5m" },
    ]);
    expect(chartWindows(NOW - 10 * DAY, NOW - 5 * DAY, NOW)).toEqual([
      { from: NOW - 10 * DAY, to: NOW - 5 * DAY, closed: true, granularity: "1h" },
    ]);
    expect(chartWindows(NOW, NOW, NOW)).toEqual([]);
  });

  test("a rerun within the hour asks the same windows", () => {
    const jobs = (now: number) => backfillJobs(["beldex"], ["usd"], 30 * DAY, now);
    const at = (now: number) => jobs(now).flatMap((j) => chartWindows(j.from, j.to, now).map((w) => w.from));
    expect(at(NOW)).toEqual(at(NOW + 10 * 60_000));
  });
});

describe("chart answer", () => {
  const T = NOW - HOUR;
  const window = { from: T + 1000, to: T + 4000, closed: false, granularity: "5m" };
  const context = { asset: "beldex", currency: "usd", window, fetchedAt: new Date(NOW).toISOString() };

  test("joins each price with the market cap and volume of its timestamp, inside the window only", () => {
    const body = parseChartBody(
      JSON.stringify({
        prices: [
          [T, 1],
          [T + 1000, 0.07],
          [T + 2000, 0.071],
          [T + 3000, 0],
          [T + 4000, 0.08],
        ],
        market_caps: [
          [T + 1000, 5e8],
          [T + 2000, null],
        ],
        total_volumes: [
          [T + 1000, 2e6],
          [T + 2000, 2.1e6],
        ],
      }),
    );
    const { ticks, dropped } = chartTicks(body, context);
    expect(ticks.map((t) => [t.sourceUpdatedAt, t.price, t.marketCap, t.volume24h])).toEqual([
      [new Date(T + 1000).toISOString(), 0.07, 5e8, 2e6],
      [new Date(T + 2000).toISOString(), 0.071, null, 2.1e6],
    ]);
    expect(ticks.every((t) => t.source === "coingecko-chart" && t.change24hPct === null)).toBe(true);
    // The zero price is dropped; T and T + 4000 lie outside [T + 1000, T + 4000).
    expect(dropped).toBe(1);
    expect(chartTicks(body, { ...context, window: { ...window, closed: true } }).ticks).toHaveLength(3);
  });

  test("an HTML page with status 200 or a body without prices is a SourceError", () => {
    expect(() => parseChartBody("<!DOCTYPE html><html>Just a moment...</html>")).toThrow(SourceError);
    expect(() => parseChartBody('{"error":"coin not found"}')).toThrow(/no price history/);
  });
});

describe("CoinGecko chart source against the fake", () => {
  test("30 days of one pair: 697 hourly and 285 five-minutely points, behind the budget's live calls", async () => {
    let clock = NOW;
    fake = await startFakeCoinGecko({ now: () => clock, callsPerMinute: 10 });
    const budget = createRequestBudget({ callsPerMinute: 10 });
    const chart = createCoinGeckoChart({ plan: "public", baseUrl: fake.url, log: silentLogger, budget });
    const [job] = backfillJobs(["beldex"], ["usd"], 30 * DAY, NOW);
    const counts = [];
    for (const window of chart.windows(job?.from ?? 0, NOW, NOW))
      counts.push((await chart.fetch("beldex", "usd", window)).ticks.length);
    // 2026-10-27T18:00 .. 2026-11-25T19:00 hourly; 19:00 .. 18:40 five-minutely.
    expect(counts).toEqual([697, 285]);
    expect(budget.spent).toBe(2);
    clock += 1;
    expect(fake.requests.every((r) => r.query.precision === "full")).toBe(true);
  });

  test("a 429 from the chart is retried after its Retry-After; a 401 is not retried", async () => {
    fake = await startFakeCoinGecko({ now: () => NOW });
    const delays: number[] = [];
    const chart = createCoinGeckoChart({
      plan: "public",
      baseUrl: fake.url,
      log: silentLogger,
      sleep: async (ms) => void delays.push(ms),
      random: () => 0,
    });
    const [window] = chart.windows(NOW - HOUR, NOW, NOW);
    if (!window) throw new Error("no window");
    fake.fault("429", { route: "market-chart", retryAfterSeconds: 7 });
    expect((await chart.fetch("bitcoin", "usd", window)).ticks).toHaveLength(12);
    expect(delays).toEqual([7000]);
    fake.fault("401", { route: "market-chart" });
    const error = await chart.fetch("bitcoin", "usd", window).catch((e) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.status).toBe(401);
  });
});

describe("runBackfill", () => {
  const windowsOf: ChartSource["windows"] = (from, to) => [
    { from, to: (from + to) / 2, closed: false, granularity: "1h" },
    { from: (from + to) / 2, to, closed: true, granularity: "5m" },
  ];
  const pointChart = (fail = new Set<number>()): ChartSource & { calls: number } => {
    const chart = {
      calls: 0,
      finestMs: 300_000,
      windows: windowsOf,
      async fetch(asset: string, currency: string, window: { from: number; to: number }) {
        chart.calls++;
        if (fail.has(chart.calls)) throw new SourceError("CoinGecko server error (HTTP 503)");
        const ticks = [window.from, window.from + 1].map((t) => ({
          v: 1 as const,
          asset,
          currency,
          price: 1,
          marketCap: null,
          volume24h: null,
          change24hPct: null,
          sourceUpdatedAt: new Date(t).toISOString(),
          fetchedAt: new Date(NOW).toISOString(),
          source: "coingecko-chart",
        }));
        return { ticks, dropped: 0 };
      },
    };
    return chart;
  };
  const jobs = backfillJobs(["beldex", "bitcoin"], ["usd"], DAY, NOW);

  test("publishes every window of every pair and counts them; a rerun publishes the same identities", async () => {
    const publisher = memoryPublisher();
    const metrics = createProducerMetrics();
    const report = await runBackfill({ chart: pointChart(), publisher, jobs, log: silentLogger, metrics });
    expect(report).toMatchObject({ pairs: 2, windows: 4, failedWindows: 0, ticks: 8 });
    expect(metrics.backfill).toEqual({ windows: 4, failedWindows: 0, ticks: 8 });
    const first = publisher.ticks.map(tickIdentity);
    const again = memoryPublisher();
    await runBackfill({ chart: pointChart(), publisher: again, jobs, log: silentLogger });
    expect(again.ticks.map(tickIdentity)).toEqual(first);
  });

  test("a failed window is counted and left for a rerun; the others are published", async () => {
    const publisher = memoryPublisher();
    const lines: string[] = [];
    const log = createLogger({ level: "info", sink: (line) => lines.push(line) });
    const report = await runBackfill({ chart: pointChart(new Set([2])), publisher, jobs, log });
    expect(report).toMatchObject({ windows: 4, failedWindows: 1, ticks: 6 });
    expect(lines.some((l) => l.includes("backfill window failed"))).toBe(true);
  });

  test("stops with the stop reason when the signal aborts", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    const run = runBackfill({
      chart: pointChart(),
      publisher: memoryPublisher(),
      jobs,
      log: silentLogger,
      signal: controller.signal,
    });
    await expect(run).rejects.toThrow();
  });
});

describe("backfill progress", () => {
  test("on a terminal: one redrawn bar line with an ETA, ended by a newline", () => {
    let clock = 0;
    const out: string[] = [];
    const progress = createBackfillProgress({
      tty: true,
      write: (t) => out.push(t),
      log: silentLogger,
      now: () => clock,
    });
    progress.start(4);
    clock = 10_000;
    progress.advance(100);
    expect(out.at(-1)).toMatch(/^\rbackfill \[#{8}-{22}\] 1\/4 windows, 100 ticks, ETA 30s/);
    clock = 40_000;
    for (let i = 0; i < 3; i++) progress.advance(10);
    expect(out.at(-1)).toContain("4/4 windows, 130 ticks in 40s");
    progress.finish();
    expect(out.at(-1)).toBe("\n");
  });

  test("elsewhere: JSON progress lines with an ETA, at most one per interval and always the last", () => {
    let clock = 0;
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ level: "info", sink: (line) => lines.push(JSON.parse(line)) });
    const progress = createBackfillProgress({ tty: false, write: () => {}, log, now: () => clock });
    progress.start(10);
    for (let i = 0; i < 10; i++) {
      clock += 500;
      progress.advance(5);
    }
    const done = lines.map((l) => l.done);
    // start, then every 2 s (4 windows of 0.5 s), then the last.
    expect(done).toEqual([0, 4, 8, 10]);
    expect(lines[1]).toMatchObject({ msg: "backfill progress", total: 10, ticks: 20, pct: 40, etaS: 3 });
  });
});

describe("durations and --backfill", () => {
  test("parses 2h, 30d, 90m, 1w and refuses the rest", () => {
    expect(parseDuration("2h")).toBe(2 * HOUR);
    expect(parseDuration("30d")).toBe(30 * DAY);
    expect(parseDuration("90m")).toBe(90 * 60_000);
    expect(parseDuration("1w")).toBe(7 * DAY);
    for (const bad of ["", "30", "d", "0d", "-1d", "1.5d", "3651d", "30 days"])
      expect(parseDuration(bad)).toBeUndefined();
    expect(formatDuration(4_800_000)).toBe("1h 20m");
    expect(formatDuration(45_400)).toBe("45s");
  });

  test("--backfill takes the next argument or =value, and says what is wrong", () => {
    expect(backfillArgument(["--backfill", "30d"])).toEqual({ durationMs: 30 * DAY });
    expect(backfillArgument(["--backfill=2h"])).toEqual({ durationMs: 2 * HOUR });
    expect(backfillArgument(["--once"])).toBeNull();
    expect(backfillArgument(["--backfill"])).toEqual({
      problem: "--backfill: expected a duration such as 2h or 30d (up to 3650d)",
    });
    expect(backfillArgument(["--backfill", "month"])).toMatchObject({
      problem: expect.stringContaining('"month"'),
    });
  });
});

describe("serial publisher", () => {
  test("sends one publish at a time, in order, a failure not stopping the next", async () => {
    const order: string[] = [];
    let inFlight = 0;
    const inner: TickPublisher = {
      async publish(ticks) {
        inFlight++;
        expect(inFlight).toBe(1);
        await Bun.sleep(5);
        order.push(String(ticks.length));
        inFlight--;
        if (ticks.length === 2) throw new Error("refused");
      },
      async close() {},
    };
    const publisher = serialPublisher(inner);
    const tick = {} as Tick;
    const results = await Promise.allSettled([
      publisher.publish([tick]),
      publisher.publish([tick, tick]),
      publisher.publish([tick, tick, tick]),
    ]);
    expect(order).toEqual(["1", "2", "3"]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });
});
