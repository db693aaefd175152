// Gap healing with in-memory fakes: which jobs the topic's tail and the published ticks call for, and the
// background worker that runs them behind the poll.
import { describe, expect, test } from "bun:test";
import { SourceError } from "../lib/errors.ts";
import { createLogger } from "../lib/log.ts";
import { createGapFinder } from "../lib/pipeline/gap-finder.ts";
import { createHistoryWorker } from "../lib/pipeline/history-worker.ts";
import { runProducerLoop } from "../lib/pipeline/produce-loop.ts";
import { createProducerMetrics } from "../lib/pipeline/producer-metrics.ts";
import type { ChartSource, FetchResult, PriceSource, TickPublisher } from "../lib/ports.ts";
import type { Tick } from "../lib/tick.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW = Date.parse("2026-11-26T18:30:00Z");
const PAIRS = [
  { asset: "beldex", currency: "usd" },
  { asset: "bitcoin", currency: "usd" },
];

function tick(asset: string, at: number, source = "coingecko"): Tick {
  return {
    v: 1,
    asset,
    currency: "usd",
    price: 1,
    marketCap: null,
    volume24h: null,
    change24hPct: null,
    sourceUpdatedAt: new Date(at).toISOString(),
    fetchedAt: new Date(at).toISOString(),
    source,
  };
}

function lines() {
  const out: Record<string, unknown>[] = [];
  return { out, log: createLogger({ level: "info", sink: (line) => out.push(JSON.parse(line)) }) };
}

describe("gap finder", () => {
  test("a pair whose tick comes more than two intervals after the topic's newest gets the time in between", () => {
    const gaps = createGapFinder({ pairs: PAIRS, thresholdMs: 20 * MINUTE });
    const known = new Map([
      ["beldex:usd", NOW - 2 * HOUR],
      ["bitcoin:usd", NOW - 5 * MINUTE],
    ]);
    expect(gaps.seed(known, NOW)).toEqual([]);
    expect(gaps.observe([tick("beldex", NOW), tick("bitcoin", NOW)])).toEqual([
      { asset: "beldex", currency: "usd", from: NOW - 2 * HOUR + 1, to: NOW - 1 },
    ]);
    // Healed: the next tick on time is no gap.
    expect(gaps.observe([tick("beldex", NOW + 10 * MINUTE)])).toEqual([]);
  });

  test("an outage while running (cycles failing for an hour) is a gap at the first tick after it", () => {
    const gaps = createGapFinder({ pairs: PAIRS, thresholdMs: 20 * MINUTE });
    gaps.seed(new Map(), NOW);
    expect(gaps.observe([tick("beldex", NOW)])).toEqual([]);
    expect(gaps.observe([tick("beldex", NOW + HOUR)])).toEqual([
      { asset: "beldex", currency: "usd", from: NOW + 1, to: NOW + HOUR - 1 },
    ]);
  });

  test("BACKFILL_ON_START backfills only the pairs the topic has no tick of, from the hour", () => {
    const gaps = createGapFinder({ pairs: PAIRS, thresholdMs: 20 * MINUTE, firstStartMs: 24 * HOUR });
    expect(gaps.seed(new Map([["bitcoin:usd", NOW - MINUTE]]), NOW)).toEqual([
      { asset: "beldex", currency: "usd", from: Date.parse("2026-11-25T18:00:00Z"), to: NOW },
    ]);
    // The first poll after it is no gap of its own.
    expect(gaps.observe([tick("beldex", NOW - 30_000)])).toEqual([]);
    expect(createGapFinder({ pairs: PAIRS, thresholdMs: 1 }).seed(new Map(), NOW)).toEqual([]);
  });

  test("older ticks (a backfill's, the outbox's) never move a pair's newest back", () => {
    const gaps = createGapFinder({ pairs: PAIRS, thresholdMs: 20 * MINUTE });
    gaps.seed(new Map([["beldex:usd", NOW]]), NOW);
    expect(gaps.observe([tick("beldex", NOW - 3 * HOUR, "coingecko-chart")])).toEqual([]);
    expect(gaps.observe([tick("beldex", NOW + 5 * MINUTE)])).toEqual([]);
  });
});

describe("history worker", () => {
  const chartOf = (fail: boolean, points = 3): ChartSource & { asked: number } => {
    const chart = {
      asked: 0,
      finestMs: 5 * MINUTE,
      windows: (from: number, to: number) => [{ from, to, closed: true, granularity: "5m" }],
      async fetch(asset: string, _currency: string, window: { from: number }) {
        chart.asked++;
        if (fail) throw new SourceError("CoinGecko server error (HTTP 503)");
        return {
          ticks: Array.from({ length: points }, (_, i) =>
            tick(asset, window.from + i * 5 * MINUTE, "coingecko-chart"),
          ),
          dropped: 0,
        };
      },
    };
    return chart;
  };
  const publisher = (): TickPublisher & { ticks: Tick[] } => {
    const ticks: Tick[] = [];
    return { ticks, publish: async (batch) => void ticks.push(...batch), close: async () => {} };
  };

  test("runs gap jobs one at a time, logs and counts each healed gap", async () => {
    const { out, log } = lines();
    const metrics = createProducerMetrics();
    const sink = publisher();
    const worker = createHistoryWorker({
      chart: chartOf(false),
      publisher: sink,
      log,
      signal: new AbortController().signal,
      metrics,
    });
    worker.enqueue(
      [
        { asset: "beldex", currency: "usd", from: NOW - HOUR, to: NOW },
        { asset: "bitcoin", currency: "usd", from: NOW - HOUR, to: NOW },
      ],
      "gap",
    );
    await worker.idle();
    expect(metrics.gapsHealed).toBe(2);
    expect(sink.ticks).toHaveLength(6);
    expect(out.filter((l) => l.msg === "gap healed").map((l) => [l.pair, l.gapS, l.ticks])).toEqual([
      ["beldex:usd", 3600, 3],
      ["bitcoin:usd", 3600, 3],
    ]);
  });

  test("a failed window or an empty gap is logged, not counted, and never throws", async () => {
    const { out, log } = lines();
    const metrics = createProducerMetrics();
    const signal = new AbortController().signal;
    const failing = createHistoryWorker({
      chart: chartOf(true),
      publisher: publisher(),
      log,
      signal,
      metrics,
    });
    failing.enqueue([{ asset: "beldex", currency: "usd", from: NOW - HOUR, to: NOW }], "gap");
    await failing.idle();
    const empty = createHistoryWorker({
      chart: chartOf(false, 0),
      publisher: publisher(),
      log,
      signal,
      metrics,
    });
    empty.enqueue([{ asset: "beldex", currency: "usd", from: NOW - 6 * MINUTE, to: NOW }], "gap");
    await empty.idle();
    expect(metrics.gapsHealed).toBe(0);
    expect(metrics.backfill.failedWindows).toBe(1);
    expect(out.map((l) => l.msg)).toContain("gap not healed: a window failed");
    expect(out.map((l) => l.msg)).toContain("gap has no price history point to fill it");
  });

  test("the producer loop tells each acknowledged publish, so an outage of the source becomes a healed gap", async () => {
    // Each fetch reports a tick 10 minutes after the last one; the 2nd to the 5th fail: 50 minutes without one.
    let fetches = 0;
    const controller = new AbortController();
    const source: PriceSource = {
      async fetch(): Promise<FetchResult> {
        fetches++;
        if (fetches >= 7) controller.abort();
        if (fetches >= 2 && fetches <= 5) throw new SourceError("CoinGecko server error (HTTP 503)");
        return { ticks: [tick("beldex", NOW + fetches * 10 * MINUTE)], skipped: [] };
      },
    };
    const metrics = createProducerMetrics();
    const sink = publisher();
    const { out, log } = lines();
    const worker = createHistoryWorker({
      chart: chartOf(false),
      publisher: sink,
      log,
      // Its own signal: the loop's stops at the 7th fetch, maybe before the healing job has run.
      signal: new AbortController().signal,
      metrics,
    });
    const gaps = createGapFinder({ pairs: PAIRS.slice(0, 1), thresholdMs: 20 * MINUTE });
    gaps.seed(new Map([["beldex:usd", NOW]]), NOW);
    await runProducerLoop({
      source,
      publisher: sink,
      log,
      signal: controller.signal,
      intervalMs: 20,
      once: false,
      metrics,
      onPublished: (ticks) => worker.enqueue(gaps.observe(ticks), "gap"),
    });
    await worker.idle();
    expect(metrics.cycles.failed).toBe(4);
    expect(metrics.gapsHealed).toBe(1);
    const healed = out.find((l) => l.msg === "gap healed");
    expect(healed).toMatchObject({ pair: "beldex:usd", from: new Date(NOW + 10 * MINUTE + 1).toISOString() });
    expect(sink.ticks.filter((t) => t.source === "coingecko-chart")).toHaveLength(3);
  });
});
