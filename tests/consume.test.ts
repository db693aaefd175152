import { describe, expect, test } from "bun:test";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { SinkError } from "../lib/errors.ts";
import { createLogger, type Logger, silentLogger } from "../lib/log.ts";
import { createBatchProcessor } from "../lib/pipeline/consume.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import type { BatchContext, BusMessage, DeadLetters, HistoryStore, LatestCache } from "../lib/ports.ts";
import { type BackoffOptions, StoppedError } from "../lib/retry.ts";
import { asMessages, makeTick } from "./support/ticks.ts";

function memoryDeadLetters(): DeadLetters & { sent: { message: BusMessage; reason: string }[] } {
  const sent: { message: BusMessage; reason: string }[] = [];
  return {
    sent,
    async send(items) {
      sent.push(...items);
    },
  };
}

/** Wraps a port so that its writes fail `times` times before they go through. */
function failing<T extends HistoryStore | LatestCache>(
  port: T,
  method: "upsert" | "putIfNewer",
  times: number,
): T {
  let left = times;
  const original = (port as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[method];
  if (!original) throw new Error(`no ${method}`);
  return {
    ...port,
    [method]: async (...args: unknown[]) => {
      if (left-- > 0) throw new Error("connection refused");
      return original.apply(port, args);
    },
  };
}

function setup(
  overrides: {
    history?: HistoryStore;
    cache?: LatestCache;
    now?: () => number;
    backoff?: BackoffOptions;
    log?: Logger;
  } = {},
) {
  const history = createMemoryHistory();
  const cache = createMemoryCache();
  const deadLetters = memoryDeadLetters();
  const metrics = createConsumerMetrics();
  const sleeps: number[] = [];
  const process = createBatchProcessor({
    history: overrides.history ?? history,
    cache: overrides.cache ?? cache,
    deadLetters,
    log: overrides.log ?? silentLogger,
    metrics,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw new StoppedError();
      sleeps.push(ms);
    },
    backoff: overrides.backoff ?? { random: () => 0.5 },
    now: overrides.now,
  });
  const ctx: BatchContext = { signal: new AbortController().signal, heartbeat: async () => {} };
  return { history, cache, deadLetters, metrics, sleeps, process, ctx };
}

describe("consumer batch metrics for Prometheus", () => {
  test("counts dead letters by the rule they broke, sink errors by sink, and times batches and writes", async () => {
    const { process, ctx, metrics } = setup({ cache: failing(createMemoryCache(), "putIfNewer", 2) });
    const messages = [
      ...asMessages([makeTick({}, 1)]),
      { ...asMessages([makeTick({}, 2)])[0], value: Buffer.from("{oops") } as BusMessage,
      { ...asMessages([makeTick({}, 3)])[0], key: "bitcoin:usd" } as BusMessage,
    ];
    await process(messages, ctx);
    expect(metrics.deadLetteredBy).toMatchObject({ "not-json": 1, "key-mismatch": 1, invalid: 0 });
    expect(metrics.sinkErrorsBy).toEqual({ history: 0, cache: 2, dlq: 0 });
    const counts = (samples: ReturnType<typeof metrics.batchSeconds.samples>, sink?: string) =>
      samples.find((s) => s.suffix === "_count" && (sink === undefined || s.labels?.sink === sink))?.value;
    expect(counts(metrics.batchSeconds.samples())).toBe(1);
    // One successful write each: the cache's two failed attempts are errors, not writes.
    for (const sink of ["dlq", "history", "cache"])
      expect(counts(metrics.sinkWriteSeconds.samples(), sink)).toBe(1);
  });
});

describe("consumer batch", () => {
  test("stores every valid tick in the history and the newest per pair in the cache", async () => {
    const { history, cache, process, ctx, metrics } = setup();
    const ticks = [
      makeTick({}, 1),
      makeTick({}, 3),
      makeTick({}, 2),
      makeTick({ currency: "eur", price: 0.065 }, 1),
    ];
    const outcome = await process(asMessages(ticks), ctx);
    expect(outcome).toEqual({ valid: 4, invalid: 0, inserted: 4, duplicates: 0, cacheUpdated: 2 });
    expect(history.rows.size).toBe(4);
    expect((await cache.get("beldex", "usd"))?.sourceUpdatedAt).toBe("2026-11-26T18:03:00.000Z");
    expect(metrics).toMatchObject({ consumed: 4, written: 4, batches: 1 });
  });

  test("stores a replayed batch once and never moves the latest price backwards", async () => {
    const { history, cache, process, ctx, metrics } = setup();
    await process(asMessages([makeTick({}, 5)]), ctx);
    const outcome = await process(asMessages([makeTick({}, 4), makeTick({}, 5), makeTick({}, 3)]), ctx);
    expect(outcome.inserted).toBe(2);
    expect(outcome.duplicates).toBe(1);
    expect(history.rows.size).toBe(3);
    expect((await cache.get("beldex", "usd"))?.sourceUpdatedAt).toBe("2026-11-26T18:05:00.000Z");
    expect(metrics.duplicates).toBe(1);
  });

  test("drops a message that fails validation into the DLQ with its reason and stores the rest", async () => {
    const { history, deadLetters, process, ctx, metrics } = setup();
    const outcome = await process(
      asMessages([makeTick({}, 1), "{oops", JSON.stringify({ ...makeTick(), price: -3 }), makeTick({}, 2)]),
      ctx,
    );
    expect(outcome).toMatchObject({ valid: 2, invalid: 2, inserted: 2 });
    expect(history.rows.size).toBe(2);
    expect(deadLetters.sent.map((item) => item.message.offset)).toEqual(["1", "2"]);
    expect(deadLetters.sent[0]?.reason).toMatch(/not JSON/);
    expect(deadLetters.sent[1]?.reason).toMatch(/price/);
    expect(metrics.deadLettered).toBe(2);
  });

  test("drops a tick dated in the future into the DLQ with its reason, so it never becomes the latest price", async () => {
    // The consumer's clock reads 18:10, five minutes after the newest genuine tick.
    const { cache, history, deadLetters, process, ctx } = setup({
      now: () => Date.parse("2026-11-26T18:10:00.000Z"),
    });
    const future = (iso: string) => makeTick({ price: 1_000, sourceUpdatedAt: iso });
    const outcome = await process(
      asMessages([
        makeTick({}, 5),
        future("9999-12-31T00:00:00.000Z"),
        future("2026-11-26T18:15:00.000Z"),
        future("2026-11-26T20:10:00.000Z"),
        future("2026-11-26T18:11:00.000Z"),
      ]),
      ctx,
    );
    expect(outcome).toMatchObject({ valid: 2, invalid: 3, inserted: 2 });
    expect(deadLetters.sent.map((item) => item.message.offset)).toEqual(["1", "2", "3"]);
    expect(deadLetters.sent[0]?.reason).toBe(
      "sourceUpdatedAt 9999-12-31T00:00:00.000Z is in the future (more than 120 s ahead of the consumer's clock)",
    );
    expect(history.rows.size).toBe(2);
    // One minute ahead is within the clock skew, so it is stored; the year 9999 one is not.
    expect((await cache.get("beldex", "usd"))?.sourceUpdatedAt).toBe("2026-11-26T18:11:00.000Z");
  });

  test("drops a tick whose key names another pair or whose schema header is unknown, and keeps a keyless one", async () => {
    const { history, deadLetters, process, ctx } = setup();
    // The producer keys by pair and sets the schema header; the 2nd and 3rd message break one rule each.
    const patches: Partial<BusMessage>[] = [
      {},
      { key: "bitcoin:usd" },
      { headers: { schema: "belly.tick.v9" } },
      { key: null },
    ];
    const messages = asMessages([1, 2, 3, 4].map((minute) => makeTick({}, minute))).map((m, i) => ({
      ...m,
      ...patches[i],
    }));
    const outcome = await process(messages, ctx);
    expect(outcome).toMatchObject({ valid: 2, invalid: 2, inserted: 2 });
    expect(history.rows.size).toBe(2);
    expect(deadLetters.sent.map((item) => item.reason)).toEqual([
      "key bitcoin:usd does not match the tick's pair beldex:usd",
      "schema header belly.tick.v9 is not one this consumer reads (belly.tick.v1)",
    ]);
  });

  test("retries a failing history with growing backoff and returns only once it is written", async () => {
    const base = createMemoryHistory();
    const { process, ctx, sleeps, metrics } = setup({ history: failing(base, "upsert", 3) });
    const outcome = await process(asMessages([makeTick()]), ctx);
    expect(outcome.inserted).toBe(1);
    expect(base.rows.size).toBe(1);
    expect(sleeps).toEqual([250, 500, 1000]);
    expect(metrics.sinkErrors).toBe(3);
    expect(metrics.sinkDown).toBe(false);
  });

  test("does not touch the cache before the history is written", async () => {
    const history = failing(createMemoryHistory(), "upsert", 1);
    const cache = createMemoryCache();
    const writes: string[] = [];
    const { process, ctx } = setup({
      history: {
        ...history,
        upsert: (ticks) => {
          writes.push("history");
          return history.upsert(ticks);
        },
      },
      cache: {
        ...cache,
        putIfNewer: (ticks) => {
          writes.push("cache");
          return cache.putIfNewer(ticks);
        },
      },
    });
    await process(asMessages([makeTick()]), ctx);
    expect(writes).toEqual(["history", "history", "cache"]);
  });

  test("ends the batch uncommitted when a heartbeat fails during a sink outage, instead of retrying for ever", async () => {
    const { process, metrics } = setup({ history: failing(createMemoryHistory(), "upsert", 1_000) });
    const dropped = new Error("The coordinator is not aware of this member");
    const running = process(asMessages([makeTick()]), {
      signal: new AbortController().signal,
      heartbeat: async () => {
        throw dropped;
      },
    });
    await expect(running).rejects.toBe(dropped);
    expect(metrics.batches).toBe(0);
  });

  test("heartbeats at least every 3 s while it waits out a long backoff", async () => {
    const { process, sleeps } = setup({
      history: failing(createMemoryHistory(), "upsert", 1),
      backoff: { baseMs: 20_000, capMs: 20_000, random: () => 0.5 },
    });
    let beats = 0;
    await process(asMessages([makeTick()]), {
      signal: new AbortController().signal,
      heartbeat: async () => {
        beats++;
      },
    });
    expect(sleeps).toEqual([3_000, 3_000, 3_000, 1_000]);
    expect(beats).toBe(4);
  });

  test("gives up without finishing when stopped during a sink outage, so the batch stays uncommitted", async () => {
    const { process, metrics } = setup({ history: failing(createMemoryHistory(), "upsert", 1_000) });
    const controller = new AbortController();
    let beats = 0;
    const running = process(asMessages([makeTick()]), {
      signal: controller.signal,
      heartbeat: async () => {
        if (++beats === 5) controller.abort();
      },
    });
    await expect(running).rejects.toBeInstanceOf(StoppedError);
    expect(metrics.batches).toBe(0);
    expect(metrics.sinkDown).toBe(true);
  });
});

/** A logger at debug that keeps its lines as objects, with `secrets` redacted as in production. */
function capturingLogger(secrets: string[] = []) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: "debug", secrets, sink: (line) => lines.push(JSON.parse(line)) });
  return { log, lines, warns: () => lines.filter((line) => line.level === "warn") };
}

/** A history whose upserts throw `error` while `down()` says so, then store as the memory history does. */
function switchable(error: Error) {
  const base = createMemoryHistory();
  let down = true;
  const history: HistoryStore = {
    ...base,
    upsert: async (ticks) => {
      if (down) throw error;
      return base.upsert(ticks);
    },
  };
  return { history, recover: () => (down = false) };
}

/** The consumer's clock in these tests: after the ticks' time, so that none is refused as from the future. */
const T0 = Date.parse("2026-11-26T18:30:00.000Z");

const wrongPassword = () =>
  new SinkError("history", "upsert failed", {
    cause: new Error('password authentication failed for user "belly"'),
    hint: "check the password in DATABASE_URL",
  });

describe("consumer dependency states", () => {
  test("every dependency starts up, with no error", () => {
    const metrics = createConsumerMetrics();
    for (const name of ["history", "cache", "dlq"] as const)
      expect(metrics.dependencies[name]).toEqual({ up: true, since: null, error: null, fix: null });
    expect(metrics.sinkDown).toBe(false);
  });

  test("a failing history is down from its first failure, with the error's line and its fix, until a write succeeds", async () => {
    let clock = T0;
    const failingHistory = failing(createMemoryHistory(), "upsert", 3);
    const seen: unknown[] = [];
    const { process, ctx, metrics } = setup({
      now: () => clock,
      history: {
        ...failingHistory,
        upsert: async (ticks) => {
          try {
            return await failingHistory.upsert(ticks);
          } catch {
            throw wrongPassword();
          }
        },
      },
    });
    const running = process(asMessages([makeTick()]), {
      ...ctx,
      heartbeat: async () => {
        seen.push(structuredClone(metrics.dependencies.history));
        clock += 10_000;
      },
    });
    await running;
    // The state was written before the first wait and kept its start time through the later failures.
    expect(seen[0]).toEqual({
      up: false,
      since: T0,
      error: 'history: upsert failed: password authentication failed for user "belly"',
      fix: "check the password in DATABASE_URL",
    });
    expect(seen.every((state) => (state as { since: number }).since === T0)).toBe(true);
    expect(metrics.dependencies.history).toEqual({ up: true, since: T0 + 30_000, error: null, fix: null });
    expect(metrics.dependencies.cache.up).toBe(true);
    expect(metrics.sinkDown).toBe(false);
  });

  test("warns once when a dependency goes down and once when it is back, and logs each retry at debug", async () => {
    let clock = T0;
    const { log, lines, warns } = capturingLogger();
    const { history, recover } = switchable(wrongPassword());
    let beats = 0;
    const { process, ctx } = setup({ history, log, now: () => clock });
    await process(asMessages([makeTick()]), {
      ...ctx,
      heartbeat: async () => {
        clock += 5_000;
        if (++beats === 6) recover();
      },
    });
    const retries = lines.filter((line) => line.msg === "sink write failed, retrying");
    expect(retries.length).toBeGreaterThan(3);
    expect(retries.every((line) => line.level === "debug")).toBe(true);
    expect(warns().map(({ msg, sink, error, fix, downMs }) => ({ msg, sink, error, fix, downMs }))).toEqual([
      {
        msg: "sink down",
        sink: "history",
        error: 'history: upsert failed: password authentication failed for user "belly"',
        fix: "check the password in DATABASE_URL",
        downMs: undefined,
      },
      { msg: "sink recovered", sink: "history", error: undefined, fix: undefined, downMs: clock - T0 },
    ]);
  });

  test("an outage that outlasts a batch stays one outage: the next batch's success ends it", async () => {
    let clock = T0;
    const { log, warns } = capturingLogger();
    const { history, recover } = switchable(wrongPassword());
    const { process, metrics } = setup({ history, log, now: () => clock });
    const controller = new AbortController();
    let beats = 0;
    const stopped = process(asMessages([makeTick()]), {
      signal: controller.signal,
      heartbeat: async () => {
        clock += 1_000;
        if (++beats === 3) controller.abort();
      },
    });
    await expect(stopped).rejects.toBeInstanceOf(StoppedError);
    expect(metrics.dependencies.history).toMatchObject({ up: false, since: T0 });
    expect(metrics.sinkDown).toBe(true);

    clock = T0 + 60_000;
    recover();
    await process(asMessages([makeTick()]), {
      signal: new AbortController().signal,
      heartbeat: async () => {},
    });
    expect(warns().map((line) => [line.msg, line.downMs])).toEqual([
      ["sink down", undefined],
      ["sink recovered", 60_000],
    ]);
    expect(metrics.dependencies.history).toEqual({ up: true, since: T0 + 60_000, error: null, fix: null });
    expect(metrics.sinkDown).toBe(false);
  });

  test("a dependency without a known fix is down with its error and a null fix; the others stay up", async () => {
    const { process, ctx, metrics } = setup({ cache: failing(createMemoryCache(), "putIfNewer", 1) });
    let during: unknown;
    await process(asMessages([makeTick()]), {
      ...ctx,
      heartbeat: async () => {
        during = structuredClone(metrics.dependencies);
      },
    });
    expect(during).toMatchObject({
      history: { up: true },
      cache: { up: false, error: "connection refused", fix: null },
      dlq: { up: true },
    });
  });

  test("keeps credentials and configured secrets out of the recorded error and fix", async () => {
    const { log } = capturingLogger(["hunter22"]);
    const leaky = new SinkError("history", "connect postgres://belly:s3cret@db:5432 failed for hunter22", {
      hint: "hunter22 is not the password",
    });
    const { history, recover } = switchable(leaky);
    const { process, ctx, metrics } = setup({ history, log });
    let during: unknown;
    await process(asMessages([makeTick()]), {
      ...ctx,
      heartbeat: async () => {
        during = structuredClone(metrics.dependencies.history);
        recover();
      },
    });
    const text = JSON.stringify(during);
    expect(text).not.toContain("s3cret");
    expect(text).not.toContain("hunter22");
    expect(during).toMatchObject({
      up: false,
      error: "history: connect postgres://***@db:5432 failed for ***",
    });
  });
});
