import { describe, expect, test } from "bun:test";
import { createLocalBus } from "../lib/adapters/local-bus/bus.ts";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { BusError } from "../lib/errors.ts";
import { silentLogger } from "../lib/log.ts";
import { createBatchProcessor } from "../lib/pipeline/consume.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import type { BatchHandler, BusMessage, HistoryStore } from "../lib/ports.ts";
import { StoppedError } from "../lib/retry.ts";
import { decodeTick, TICK_HEADERS, type Tick } from "../lib/tick.ts";
import { waitFor } from "./support/processes.ts";
import { makeTick } from "./support/ticks.ts";

/** A sleep that returns at once (or throws when stopped) and records what it was asked to wait. */
function instantSleep(sleeps: number[] = []) {
  return async (ms: number, signal?: AbortSignal) => {
    if (signal?.aborted) throw new StoppedError();
    sleeps.push(ms);
    await Bun.sleep(0);
  };
}

/** The consumer's real batch step on memory sinks, with instant backoff. */
function consumer(history: HistoryStore = createMemoryHistory()) {
  const cache = createMemoryCache();
  const metrics = createConsumerMetrics();
  const bus = createLocalBus({ sleep: instantSleep() });
  const process = createBatchProcessor({
    history,
    cache,
    deadLetters: bus.publisher,
    log: silentLogger,
    metrics,
    sleep: instantSleep(),
  });
  return { bus, history, cache, metrics, process };
}

/** A handler that records each batch it was given, then delegates. */
function recording(inner: BatchHandler = async () => {}) {
  const batches: BusMessage[][] = [];
  const handler: BatchHandler = (messages, ctx) => {
    batches.push(messages);
    return inner(messages, ctx);
  };
  return { batches, handler };
}

const minutes = (count: number, overrides: Partial<Tick> = {}) =>
  Array.from({ length: count }, (_, minute) => makeTick(overrides, minute));

describe("local bus", () => {
  test("carries published ticks through the consumer's batch step into history and cache", async () => {
    const { bus, history, cache, process } = consumer();
    const subscription = bus.subscribe(process, silentLogger);
    const ticks = [...minutes(3), ...minutes(2, { currency: "eur", price: 0.06 })];
    await bus.publisher.publish(ticks);
    await waitFor("every tick committed", () => bus.committed() === 5);
    await subscription.stop();
    expect(await history.recent("beldex", "usd")).toHaveLength(3);
    expect((await cache.get("beldex", "eur"))?.sourceUpdatedAt).toBe(ticks[4]?.sourceUpdatedAt ?? "");
    expect(bus.pending()).toBe(0);
  });

  test("encodes messages as the Kafka publisher does: pair key, JSON value, tick headers", async () => {
    const bus = createLocalBus({ topic: "prices" });
    const { batches, handler } = recording();
    const subscription = bus.subscribe(handler, silentLogger);
    const tick = makeTick({ asset: "bitcoin", currency: "eur", price: 78_840.55 });
    await bus.publisher.publish([tick]);
    await waitFor("one batch", () => batches.length === 1);
    await subscription.stop();
    const [message] = batches[0] ?? [];
    expect(message).toMatchObject({ topic: "prices", partition: 0, offset: "0", key: "bitcoin:eur" });
    expect(message?.headers).toEqual({ ...TICK_HEADERS });
    expect(decodeTick(message?.value)).toEqual(tick);
  });

  test("hands over everything pending at once, cut at maxBatch, with consecutive offsets", async () => {
    const bus = createLocalBus({ maxBatch: 3 });
    await bus.publisher.publish(minutes(7));
    const { batches, handler } = recording();
    const subscription = bus.subscribe(handler, silentLogger);
    await waitFor("all committed", () => bus.committed() === 7);
    await subscription.stop();
    expect(batches.map((batch) => batch.length)).toEqual([3, 3, 1]);
    expect(batches.flat().map((message) => message.offset)).toEqual(["0", "1", "2", "3", "4", "5", "6"]);
  });

  test("keeps each pair's ticks in publish order across many publishes and batches", async () => {
    const bus = createLocalBus({ maxBatch: 4 });
    const { batches, handler } = recording(() => Bun.sleep(1));
    const subscription = bus.subscribe(handler, silentLogger);
    const published: Tick[] = [];
    for (let minute = 0; minute < 20; minute++) {
      const round = ["usd", "eur", "gbp"].map((currency) => makeTick({ currency }, minute));
      published.push(...round);
      await bus.publisher.publish(round);
      if (minute % 5 === 0) await Bun.sleep(2);
    }
    await waitFor("all committed", () => bus.committed() === published.length);
    await subscription.stop();
    const seen = batches.flat().map((message) => decodeTick(message.value));
    for (const currency of ["usd", "eur", "gbp"])
      expect(seen.filter((t) => t.currency === currency)).toEqual(
        published.filter((t) => t.currency === currency),
      );
  });

  test("delivers the same batch again after the handler threw, and commits only once it resolved", async () => {
    const sleeps: number[] = [];
    const bus = createLocalBus({ retryDelayMs: 250, sleep: instantSleep(sleeps) });
    let failures = 2;
    const committedWhenCalled: number[] = [];
    const { batches, handler } = recording(async () => {
      committedWhenCalled.push(bus.committed());
      if (failures-- > 0) throw new Error("a bug in the handler");
    });
    await bus.publisher.publish(minutes(2));
    const subscription = bus.subscribe(handler, silentLogger);
    await waitFor("the batch committed", () => bus.committed() === 2);
    await subscription.stop();
    expect(batches.map((batch) => batch.map((message) => message.offset))).toEqual([
      ["0", "1"],
      ["0", "1"],
      ["0", "1"],
    ]);
    expect(committedWhenCalled).toEqual([0, 0, 0]);
    expect(sleeps).toEqual([250, 250]);
  });

  test("stop during a sink outage abandons the batch uncommitted; the next subscriber stores all of it", async () => {
    const store = createMemoryHistory();
    let outage = true;
    const { bus, history, process } = consumer({
      ...store,
      upsert: async (ticks) => {
        if (outage) throw new Error("connection refused");
        return store.upsert(ticks);
      },
    });
    let calls = 0;
    const subscription = bus.subscribe((messages, ctx) => {
      calls++;
      return process(messages, ctx);
    }, silentLogger);
    await bus.publisher.publish(minutes(4));
    await waitFor("the batch in flight", () => calls === 1);
    await Bun.sleep(5);
    await subscription.stop();
    expect(await subscription.done).toBeUndefined();
    expect(bus.committed()).toBe(0);
    expect(bus.pending()).toBe(4);

    outage = false;
    const next = bus.subscribe(process, silentLogger);
    await waitFor("the batch committed", () => bus.committed() === 4);
    await next.stop();
    expect(await history.recent("beldex", "usd")).toHaveLength(4);
  });

  test("stop waits for the batch in flight to settle, and commits it not even when it then succeeds", async () => {
    for (const outcome of ["stopped", "resolved"] as const) {
      const bus = createLocalBus();
      let finished = false;
      const subscription = bus.subscribe(async (_messages, ctx) => {
        // Like a sink write already on the wire: the abort is noticed only when it comes back.
        await Bun.sleep(30);
        finished = true;
        if (outcome === "stopped" && ctx.signal.aborted) throw new StoppedError();
      }, silentLogger);
      await bus.publisher.publish(minutes(1));
      await Bun.sleep(5);
      await subscription.stop();
      expect(finished).toBe(true);
      expect(bus.committed()).toBe(0);
      expect(bus.pending()).toBe(1);
    }
  });

  test("captures invalid ticks as dead letters with the reason and source, and stores the rest", async () => {
    const { bus, history, process } = consumer();
    const subscription = bus.subscribe(process, silentLogger);
    const bad = { ...makeTick({}, 1), price: -5 };
    await bus.publisher.publish([makeTick({}, 0), bad, makeTick({}, 2)]);
    await waitFor("all committed", () => bus.committed() === 3);
    await subscription.stop();
    expect(await history.recent("beldex", "usd")).toHaveLength(2);
    expect(bus.deadLetters).toHaveLength(1);
    const [dead] = bus.deadLetters;
    expect(dead?.topic).toBe("belly-price.dlq");
    expect(dead?.key).toBe("beldex:usd");
    expect(dead?.headers["dlq-reason"]).toMatch(/price/);
    expect(dead?.headers["dlq-source"]).toBe("belly-price/0/1");
    expect(dead?.headers.schema).toBe(TICK_HEADERS.schema);
  });

  test("resolves stop at once when idle, and allows one subscriber at a time", async () => {
    const bus = createLocalBus();
    const first = bus.subscribe(async () => {}, silentLogger);
    expect(() => bus.subscribe(async () => {}, silentLogger)).toThrow(BusError);
    await first.stop();
    await first.stop();
    const second = bus.subscribe(async () => {}, silentLogger);
    await second.stop();
  });

  test("rejects publishing after close, and beyond maxPending while nobody consumes", async () => {
    const bus = createLocalBus({ maxPending: 3 });
    await bus.publisher.publish(minutes(3));
    await expect(bus.publisher.publish(minutes(1))).rejects.toBeInstanceOf(BusError);
    await bus.publisher.close();
    await expect(bus.publisher.publish([])).resolves.toBeUndefined();
    const closed = createLocalBus();
    await closed.publisher.close();
    await expect(closed.publisher.publish(minutes(1))).rejects.toThrow(/after close/);
  });
});
