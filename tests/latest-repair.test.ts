// Rebuilding the latest cache from the history: what one repair writes and logs, how a shared repair is
// rate-limited, the start-up retries, the bound on the history's latest read, and the consumer's start.
import { describe, expect, test } from "bun:test";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { createSqliteHistory } from "../lib/adapters/sqlite/history.ts";
import { SinkError } from "../lib/errors.ts";
import { createLogger } from "../lib/log.ts";
import { createLatestRepair, repairLatest, repairUntilDone } from "../lib/pipeline/latest-repair.ts";
import { type ConsumerBus, type HistoryStore, LATEST_MAX_PAIRS, type Subscription } from "../lib/ports.ts";
import { StoppedError } from "../lib/retry.ts";
import { runConsumerService } from "../lib/run/consumer-service.ts";
import type { Tick } from "../lib/tick.ts";
import { waitFor } from "./support/processes.ts";
import { makeTick } from "./support/ticks.ts";

/** A logger that keeps its lines, parsed. */
function recordingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: "debug", sink: (line) => lines.push(JSON.parse(line)) });
  return { log, lines, said: (msg: string) => lines.filter((line) => line.msg === msg) };
}

// Three pairs, several ticks each, stored out of order.
function seed(): Tick[] {
  return [
    makeTick({}, 3),
    makeTick({}, 9),
    makeTick({}, 1),
    makeTick({ currency: "eur", price: 0.065 }, 4),
    makeTick({ asset: "bitcoin", price: 91_000 }, 2),
    makeTick({ asset: "bitcoin", price: 91_500 }, 8),
  ];
}

async function seededHistory(ticks = seed()) {
  const history = createMemoryHistory();
  await history.upsert(ticks);
  return history;
}

/** A history whose latest() fails `times` times, then answers. */
function failingLatest(history: HistoryStore, times: number): HistoryStore & { calls: () => number } {
  let calls = 0;
  return {
    ...history,
    latest: async () => {
      if (calls++ < times) throw new SinkError("history", "select latest failed");
      return history.latest();
    },
    calls: () => calls,
  };
}

describe("repairLatest", () => {
  test("writes the history's newest tick of every pair the cache lost, and logs how many", async () => {
    const { log, said } = recordingLog();
    const cache = createMemoryCache();
    expect(await repairLatest(await seededHistory(), cache, log)).toEqual({ known: 3, restored: 3 });
    expect(await cache.get("beldex", "usd")).toEqual(makeTick({}, 9));
    expect(await cache.get("beldex", "eur")).toEqual(makeTick({ currency: "eur", price: 0.065 }, 4));
    expect(await cache.get("bitcoin", "usd")).toEqual(makeTick({ asset: "bitcoin", price: 91_500 }, 8));
    expect(said("latest cache restored from history")).toEqual([
      expect.objectContaining({ level: "info", pairs: 3, known: 3 }),
    ]);
  });

  test("never moves a cached price backwards, and says nothing when nothing was missing", async () => {
    const { log, lines } = recordingLog();
    const cache = createMemoryCache();
    // Newer than the history's newest: a tick the cache took while the history write was still retrying.
    const newer = makeTick({ price: 0.5 }, 20);
    await cache.putIfNewer([newer, ...seed()]);
    expect(await repairLatest(await seededHistory(), cache, log)).toEqual({ known: 3, restored: 0 });
    expect(await cache.get("beldex", "usd")).toEqual(newer);
    expect(lines).toEqual([]);
  });

  test("restores only the pairs the cache lacks or holds older", async () => {
    const { log, said } = recordingLog();
    const cache = createMemoryCache();
    await cache.putIfNewer([makeTick({}, 9), makeTick({ currency: "eur", price: 0.065 }, 1)]);
    expect(await repairLatest(await seededHistory(), cache, log)).toEqual({ known: 3, restored: 2 });
    expect(said("latest cache restored from history")[0]).toMatchObject({ pairs: 2, known: 3 });
  });

  test("writes many pairs in chunks of at most 500 ticks", async () => {
    const ticks = Array.from({ length: 1_200 }, (_, index) => makeTick({ asset: `a${index}` }));
    const cache = createMemoryCache();
    const sizes: number[] = [];
    const counting = {
      putIfNewer: (batch: Tick[]) => {
        sizes.push(batch.length);
        return cache.putIfNewer(batch);
      },
    };
    const { log } = recordingLog();
    expect(await repairLatest(await seededHistory(ticks), counting, log)).toEqual({
      known: 1_200,
      restored: 1_200,
    });
    expect(sizes).toEqual([500, 500, 200]);
  });

  test("throws what the history threw, writing nothing", async () => {
    const cache = createMemoryCache();
    const { log } = recordingLog();
    const history = failingLatest(await seededHistory(), 1);
    await expect(repairLatest(history, cache, log)).rejects.toBeInstanceOf(SinkError);
    expect(await cache.pairs()).toEqual([]);
  });
});

describe("createLatestRepair", () => {
  test("concurrent callers share one run", async () => {
    const history = failingLatest(await seededHistory(), 0);
    const { log } = recordingLog();
    const repair = createLatestRepair({ history, cache: createMemoryCache(), log });
    expect(await Promise.all([repair(), repair(), repair()])).toEqual([true, true, true]);
    expect(history.calls()).toBe(1);
  });

  test("starts at most one run per interval, then one again", async () => {
    let now = 1_000;
    const history = failingLatest(await seededHistory(), 0);
    const { log } = recordingLog();
    const repair = createLatestRepair({
      history,
      cache: createMemoryCache(),
      log,
      minIntervalMs: 30_000,
      now: () => now,
    });
    expect(await repair()).toBe(true);
    now += 29_999;
    expect(await repair()).toBe(false);
    expect(history.calls()).toBe(1);
    now += 1;
    expect(await repair()).toBe(true);
    expect(history.calls()).toBe(2);
  });

  test("logs a failure as a warning and resolves false instead of throwing", async () => {
    const history = failingLatest(await seededHistory(), 1);
    const { log, said } = recordingLog();
    let now = 0;
    const cache = createMemoryCache();
    const repair = createLatestRepair({ history, cache, log, minIntervalMs: 10, now: () => now });
    expect(await repair()).toBe(false);
    expect(said("latest cache repair failed")).toEqual([
      expect.objectContaining({ level: "warn", error: expect.stringContaining("select latest failed") }),
    ]);
    now = 10;
    expect(await repair()).toBe(true);
    expect(await cache.pairs()).toHaveLength(3);
  });

  test("gives up on a run that hangs, so that a later miss can start another", async () => {
    const history = await seededHistory();
    let hang = true;
    const hanging = { latest: () => (hang ? new Promise<Tick[]>(() => {}) : history.latest()) };
    const { log, said } = recordingLog();
    let now = 0;
    const repair = createLatestRepair({
      history: hanging,
      cache: createMemoryCache(),
      log,
      timeoutMs: 20,
      minIntervalMs: 10,
      now: () => now,
    });
    expect(await repair()).toBe(false);
    expect(said("latest cache repair failed")[0]?.error).toContain("no answer within 20 ms");
    hang = false;
    now = 10;
    expect(await repair()).toBe(true);
  });
});

describe("repairUntilDone", () => {
  test("waits the interval before each attempt and stops at the first success", async () => {
    const waits: number[] = [];
    let attempts = 0;
    await repairUntilDone(async () => ++attempts === 3, {
      signal: new AbortController().signal,
      intervalMs: 30_000,
      sleep: async (ms) => void waits.push(ms),
    });
    expect(attempts).toBe(3);
    expect(waits).toEqual([30_000, 30_000, 30_000]);
  });

  test("resolves without another attempt once the signal aborts", async () => {
    const stop = new AbortController();
    let attempts = 0;
    const done = repairUntilDone(
      async () => {
        attempts++;
        stop.abort();
        return false;
      },
      {
        signal: stop.signal,
        sleep: async (_ms, signal) => {
          if (signal?.aborted) throw new StoppedError();
        },
      },
    );
    expect(await done).toBeUndefined();
    expect(attempts).toBe(1);
  });
});

describe("HistoryStore.latest bound", () => {
  const pairs = Array.from({ length: LATEST_MAX_PAIRS + 1 }, (_, index) =>
    makeTick({ asset: `a${String(index).padStart(5, "0")}` }),
  );

  test("memory returns at most LATEST_MAX_PAIRS pairs", async () => {
    expect(await (await seededHistory(pairs)).latest()).toHaveLength(LATEST_MAX_PAIRS);
  });

  test("SQLite returns at most LATEST_MAX_PAIRS pairs", async () => {
    const history = createSqliteHistory(":memory:");
    try {
      await history.upsert(pairs);
      const latest = await history.latest();
      expect(latest).toHaveLength(LATEST_MAX_PAIRS);
      expect(latest[0]).toEqual(pairs[0] as Tick);
    } finally {
      await history.close();
    }
  });
});

/** A bus that delivers nothing and runs until stopped: the consumer's start is what is under test. */
function idleBus(): ConsumerBus & { subscribed: () => boolean } {
  let subscribed = false;
  return {
    deadLetters: { send: async () => {} },
    async subscribe(): Promise<Subscription> {
      subscribed = true;
      const { promise, resolve } = Promise.withResolvers<void>();
      return { done: promise, stop: async () => resolve() };
    },
    lag: () => 0,
    close: async () => {},
    subscribed: () => subscribed,
  };
}

describe("consumer start", () => {
  async function start(history: HistoryStore) {
    const { log, said } = recordingLog();
    const cache = createMemoryCache();
    const bus = idleBus();
    const stop = new AbortController();
    const running = runConsumerService({
      bus,
      history,
      cache,
      log,
      signal: stop.signal,
      port: 0,
      fetchIntervalMs: 60_000,
    });
    await waitFor("the consumer to start", () => said("consumer started").length > 0, 5_000);
    const stopped = () => {
      stop.abort();
      return running;
    };
    return { cache, bus, said, stop: stopped };
  }

  test("restores every pair the history knows before it consumes", async () => {
    const { cache, bus, said, stop } = await start(await seededHistory());
    try {
      expect(bus.subscribed()).toBe(true);
      expect(await cache.pairs()).toHaveLength(3);
      expect(await cache.get("beldex", "usd")).toEqual(makeTick({}, 9));
      expect(said("latest cache restored from history")[0]).toMatchObject({ pairs: 3 });
    } finally {
      await stop();
    }
  });

  test("starts consuming even when the repair fails, and says why", async () => {
    const { bus, said, stop } = await start(failingLatest(await seededHistory(), 1));
    try {
      expect(bus.subscribed()).toBe(true);
      expect(said("latest cache repair failed")).toHaveLength(1);
    } finally {
      await stop();
    }
  });
});
