import { describe, expect, test } from "bun:test";
import { createRequestBudget } from "../lib/request-budget.ts";
import { StoppedError } from "../lib/retry.ts";

/** A virtual clock whose sleeps advance it, so a minute of budget passes in microseconds. */
function virtualClock(start = 1_000_000) {
  const clock = { now: start, sleeps: [] as number[] };
  return {
    clock,
    now: () => clock.now,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      await Promise.resolve();
      clock.now += ms;
    },
  };
}

/** Most calls of `times` within any `windowMs`. */
function peakWithin(times: number[], windowMs: number): number {
  return Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + windowMs).length));
}

describe("request budget", () => {
  test("spends the limit at once, then one call per returned token, never more than the limit in any minute", async () => {
    const v = virtualClock();
    const budget = createRequestBudget({ callsPerMinute: 5, reserveForLive: 0, now: v.now, sleep: v.sleep });
    const times: number[] = [];
    for (let i = 0; i < 23; i++) {
      await budget.take("background");
      times.push(v.now());
    }
    expect(times.slice(0, 5).every((t) => t === times[0])).toBe(true);
    expect(peakWithin(times, 60_000)).toBe(5);
    expect(budget.peak).toBe(5);
    expect(budget.spent).toBe(23);
    // 23 calls at 5 per minute: four full waits of a window plus the margin.
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBe(4 * 61_000);
  });

  test("the live poll goes before waiting background calls", async () => {
    const v = virtualClock();
    const budget = createRequestBudget({ callsPerMinute: 2, reserveForLive: 0, now: v.now, sleep: v.sleep });
    await budget.take("background");
    await budget.take("background");
    const order: string[] = [];
    const background = budget.take("background").then(() => order.push("background"));
    const live = budget.take("live").then(() => order.push("live"));
    await Promise.all([background, live]);
    expect(order).toEqual(["live", "background"]);
  });

  test("background calls leave the reserve for the live poll, which gets it at once", async () => {
    const v = virtualClock();
    const budget = createRequestBudget({ callsPerMinute: 3, reserveForLive: 1, now: v.now, sleep: v.sleep });
    await budget.take("background");
    await budget.take("background");
    const start = v.now();
    await budget.take("live");
    expect(v.now()).toBe(start);
    // A third background call waits for a returned token even though the live poll has not used the reserve.
    const v2 = virtualClock();
    const other = createRequestBudget({ callsPerMinute: 3, reserveForLive: 1, now: v2.now, sleep: v2.sleep });
    await other.take("background");
    await other.take("background");
    const t0 = v2.now();
    await other.take("background");
    expect(v2.now()).toBe(t0 + 61_000);
  });

  test("the reserve never takes the whole budget", async () => {
    const v = virtualClock();
    const budget = createRequestBudget({ callsPerMinute: 1, reserveForLive: 5, now: v.now, sleep: v.sleep });
    await budget.take("background");
    expect(budget.spent).toBe(1);
  });

  test("a waiter whose signal aborts is removed and rejects with the stop reason", async () => {
    const budget = createRequestBudget({ callsPerMinute: 1, reserveForLive: 0 });
    await budget.take("live");
    const controller = new AbortController();
    const waiting = budget.take("background", controller.signal);
    expect(budget.waiting).toBe(1);
    controller.abort(new StoppedError("SIGTERM"));
    await expect(waiting).rejects.toBeInstanceOf(StoppedError);
    expect(budget.waiting).toBe(0);
    expect(budget.spent).toBe(1);
  });
});
