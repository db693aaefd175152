import { describe, expect, test } from "bun:test";
import { BusError, SourceError } from "../lib/errors.ts";
import { createLogger, silentLogger } from "../lib/log.ts";
import { createOutbox } from "../lib/pipeline/outbox.ts";
import { runCycle } from "../lib/pipeline/produce.ts";
import { runProducerLoop } from "../lib/pipeline/produce-loop.ts";
import { createProducerMetrics } from "../lib/pipeline/producer-metrics.ts";
import { createSkipTracker } from "../lib/pipeline/skip-tracker.ts";
import type { FetchResult, PriceSource, TickPublisher } from "../lib/ports.ts";
import type { Tick } from "../lib/tick.ts";
import { makeTick } from "./support/ticks.ts";

/** A source that answers the queued results in turn. */
function queuedSource(results: FetchResult[]): PriceSource {
  return { fetch: async () => results.shift() ?? { ticks: [], skipped: [] } };
}

/** A publisher whose first `failures` publishes fail like an unreachable broker. */
function flakyPublisher(failures: number): TickPublisher & { sent: Tick[][] } {
  const sent: Tick[][] = [];
  let left = failures;
  return {
    sent,
    async publish(ticks) {
      if (left-- > 0) throw new BusError("cannot reach Kafka");
      sent.push(ticks);
    },
    async close() {},
  };
}

describe("producer cycle", () => {
  test("publishes every valid tick and logs one line with fetched, published, skipped and latency", async () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (line) => lines.push(line) });
    const publisher = flakyPublisher(0);
    const source = queuedSource([
      { ticks: [makeTick({}, 1)], skipped: [{ asset: "nope", currency: "usd", reason: "unknown id" }] },
    ]);
    const report = await runCycle({ source, publisher, log });
    expect(report).toMatchObject({ fetched: 2, published: 1, resent: 0 });
    expect(publisher.sent).toEqual([[makeTick({}, 1)]]);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      msg: "cycle",
      skipped: [{ pair: "nope:usd", reason: "unknown id" }],
    });
    expect(JSON.parse(lines[0] ?? "")).not.toHaveProperty("publishedPairs");
  });

  test("holds the ticks of a failed publish and sends them, oldest first and once, with the next cycle", async () => {
    const outbox = createOutbox();
    const publisher = flakyPublisher(2);
    const source = queuedSource([
      { ticks: [makeTick({}, 1), makeTick({ currency: "eur" }, 1)], skipped: [] },
      { ticks: [makeTick({}, 2), makeTick({ currency: "eur" }, 1)], skipped: [] }, // eur unchanged: same identity
      { ticks: [makeTick({}, 3)], skipped: [] },
    ]);
    const cycle = () => runCycle({ source, publisher, log: silentLogger, outbox });
    await expect(cycle()).rejects.toBeInstanceOf(BusError);
    await expect(cycle()).rejects.toBeInstanceOf(BusError);
    expect(outbox.size).toBe(3);
    const report = await cycle();
    expect(report).toMatchObject({ published: 4, resent: 3 });
    expect(publisher.sent[0]?.map((t) => `${t.currency}@${t.sourceUpdatedAt.slice(11, 16)}`)).toEqual([
      "usd@18:01",
      "eur@18:01",
      "usd@18:02",
      "usd@18:03",
    ]);
    expect(outbox.size).toBe(0);
  });

  test("an outbox past its limit drops the oldest ticks and says how many", () => {
    const outbox = createOutbox(2);
    expect(outbox.hold([makeTick({}, 1), makeTick({}, 2), makeTick({}, 3)])).toBe(1);
    expect(outbox.withHeld([]).map((t) => t.sourceUpdatedAt.slice(11, 16))).toEqual(["18:02", "18:03"]);
  });

  test("--once fails with a hint naming ASSETS when no pair gave a price", async () => {
    const source = queuedSource([
      { ticks: [], skipped: [{ asset: "notacoin", currency: "usd", reason: "unknown id" }] },
    ]);
    const error = await runCycle({
      source,
      publisher: flakyPublisher(0),
      log: silentLogger,
      requireTicks: true,
    }).catch((e) => e);
    expect(error.message).toContain("notacoin:usd: unknown id");
    expect(error.hint).toContain("ASSETS");
  });
});

describe("producer metrics", () => {
  const unknown = { asset: "nosuchcoin", currency: "usd", reason: "unknown id" };

  test("a successful cycle counts ok, published and skipped ticks by reason, and stamps the success", async () => {
    const metrics = createProducerMetrics();
    const source = queuedSource([
      { ticks: [makeTick({}, 1), makeTick({ currency: "eur" }, 1)], skipped: [unknown] },
      {
        ticks: [makeTick({}, 2)],
        skipped: [unknown, { ...unknown, currency: "eur", reason: "price missing" }],
      },
    ]);
    const deps = { source, publisher: flakyPublisher(0), log: silentLogger, metrics, clock: () => 1_234 };
    await runCycle(deps);
    await runCycle(deps);
    expect(metrics).toMatchObject({
      cycles: { ok: 2, failed: 0 },
      ticksPublished: 3,
      sourceErrors: 0,
      publishErrors: 0,
      lastSuccessAt: 1_234,
    });
    expect([...metrics.skipped]).toEqual([
      ["unknown id", 2],
      ["price missing", 1],
    ]);
  });

  test("a failed source counts a source error and a failed cycle, and keeps the last success", async () => {
    const metrics = createProducerMetrics();
    const source: PriceSource = {
      fetch: async () => {
        throw new SourceError("CoinGecko answered 500");
      },
    };
    await expect(
      runCycle({ source, publisher: flakyPublisher(0), log: silentLogger, metrics }),
    ).rejects.toThrow();
    expect(metrics).toMatchObject({ cycles: { ok: 0, failed: 1 }, sourceErrors: 1, lastSuccessAt: null });
  });

  test("a refused publish counts a publish error and shows the outbox size until a publish goes through", async () => {
    const metrics = createProducerMetrics();
    const outbox = createOutbox();
    const source = queuedSource([
      { ticks: [makeTick({}, 1), makeTick({ currency: "eur" }, 1)], skipped: [] },
      { ticks: [makeTick({}, 2)], skipped: [] },
    ]);
    const deps = { source, publisher: flakyPublisher(1), log: silentLogger, metrics, outbox };
    await expect(runCycle(deps)).rejects.toBeInstanceOf(BusError);
    expect(metrics).toMatchObject({
      cycles: { failed: 1 },
      publishErrors: 1,
      outboxSize: 2,
      ticksPublished: 0,
    });
    await runCycle(deps);
    expect(metrics).toMatchObject({ cycles: { ok: 1, failed: 1 }, outboxSize: 0, ticksPublished: 3 });
  });

  test("a cycle cut short by the stop signal counts neither as failed nor as a source error", async () => {
    const metrics = createProducerMetrics();
    const controller = new AbortController();
    const source: PriceSource = {
      fetch: async () => {
        controller.abort();
        throw new Error("aborted");
      },
    };
    const deps = {
      source,
      publisher: flakyPublisher(0),
      log: silentLogger,
      metrics,
      signal: controller.signal,
    };
    await expect(runCycle(deps)).rejects.toThrow();
    expect(metrics).toMatchObject({ cycles: { ok: 0, failed: 0 }, sourceErrors: 0 });
  });

  test("the loop counts every cycle, the failed ones too, and tells the tracker about each success", async () => {
    const metrics = createProducerMetrics();
    const controller = new AbortController();
    const lines: { level: string; msg: string; pair?: string }[] = [];
    const log = createLogger({ sink: (line) => lines.push(JSON.parse(line)) });
    let fetches = 0;
    const source: PriceSource = {
      fetch: async () => {
        fetches++;
        if (fetches === 4) controller.abort();
        if (fetches === 2) throw new SourceError("CoinGecko answered 503");
        return { ticks: [makeTick({}, fetches)], skipped: [unknown] };
      },
    };
    await runProducerLoop({
      source,
      publisher: flakyPublisher(0),
      log,
      signal: controller.signal,
      intervalMs: 20,
      once: false,
      metrics,
      pairs: createSkipTracker({ log }),
    });
    expect(metrics).toMatchObject({ cycles: { ok: 3, failed: 1 }, sourceErrors: 1, ticksPublished: 3 });
    expect(metrics.skipped.get("unknown id")).toBe(3);
    // Three cycles skipped the pair, one warn line said so.
    expect(lines.filter((l) => l.level === "warn")).toEqual([
      expect.objectContaining({ pair: "nosuchcoin:usd", reason: "unknown id" }),
    ]);
  });

  test("--once counts the cycle that published nothing as failed", async () => {
    const metrics = createProducerMetrics();
    const loop = runProducerLoop({
      source: queuedSource([{ ticks: [], skipped: [unknown] }]),
      publisher: flakyPublisher(0),
      log: silentLogger,
      signal: new AbortController().signal,
      intervalMs: 600_000,
      once: true,
      metrics,
    });
    await expect(loop).rejects.toThrow("nosuchcoin:usd: unknown id");
    expect(metrics.cycles).toEqual({ ok: 0, failed: 1 });
  });
});

describe("producer publish deadline and stop", () => {
  test("a publish Kafka does not answer in time fails the cycle and holds its ticks; no second send starts until it is answered", async () => {
    const outbox = createOutbox();
    let release = () => {};
    const sent: Tick[][] = [];
    let calls = 0;
    const publisher: TickPublisher = {
      async publish(ticks) {
        calls++;
        if (calls === 1) await new Promise<void>((resolve) => (release = resolve)); // a broker that hangs
        sent.push(ticks);
      },
      async close() {},
    };
    const source = queuedSource([
      { ticks: [makeTick({}, 1)], skipped: [] },
      { ticks: [makeTick({}, 2)], skipped: [] },
      { ticks: [makeTick({}, 3)], skipped: [] },
    ]);
    const cycle = () => runCycle({ source, publisher, log: silentLogger, outbox, publishTimeoutMs: 30 });
    const late = await cycle().catch((e: unknown) => e);
    expect(late).toBeInstanceOf(BusError);
    expect(String(late)).toContain("did not acknowledge the publish within 0.03 s");
    expect(outbox.size).toBe(1);
    // The first send is still unanswered: the next cycle holds its ticks rather than racing it.
    expect(String(await cycle().catch((e: unknown) => e))).toContain("still waiting for Kafka's answer");
    expect(calls).toBe(1);
    expect(outbox.size).toBe(2);
    release();
    await Bun.sleep(0);
    await cycle();
    expect(sent).toEqual([[makeTick({}, 1)], [makeTick({}, 1), makeTick({}, 2), makeTick({}, 3)]]);
    expect(outbox.size).toBe(0);
  });

  test("a stop publishes the ticks still held from a failed publish, or says how many are lost", async () => {
    const run = async (publisher: TickPublisher) => {
      const lines: Record<string, unknown>[] = [];
      const log = createLogger({ sink: (line) => lines.push(JSON.parse(line)) });
      const controller = new AbortController();
      await runProducerLoop({
        source: {
          fetch: async () => {
            controller.abort(); // one cycle, then stop
            return { ticks: [makeTick({}, 1), makeTick({ currency: "eur" }, 1)], skipped: [] };
          },
        },
        publisher,
        log,
        signal: controller.signal,
        intervalMs: 600_000,
        once: false,
      });
      return lines.filter((l) => l.msg !== "producer started" && l.msg !== "cycle failed");
    };
    const recovers = flakyPublisher(1);
    expect(await run(recovers)).toEqual([
      expect.objectContaining({ msg: "publish failed: ticks held for the next cycle", held: 2 }),
      expect.objectContaining({ msg: "published the held ticks before stopping", ticks: 2 }),
    ]);
    expect(recovers.sent).toHaveLength(1);
    expect((await run(flakyPublisher(2))).at(-1)).toMatchObject({
      level: "warn",
      msg: "stopping with ticks Kafka never acknowledged; they are lost",
      lost: 2,
    });
  });
});
