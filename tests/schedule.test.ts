import { describe, expect, test } from "bun:test";
import { StoppedError } from "../lib/retry.ts";
import { nextBoundary, runSchedule } from "../lib/schedule.ts";

/** A virtual clock: sleeping advances time instantly, so the tests are exact and fast. */
function virtualClock(start: number) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw new StoppedError();
      now += ms;
    },
  };
}

describe("schedule", () => {
  test("finds the next wall-clock boundary", () => {
    const t = Date.parse("2026-11-26T18:04:10Z");
    expect(new Date(nextBoundary(t, 600_000)).toISOString()).toBe("2026-11-26T18:10:00.000Z");
    expect(nextBoundary(Date.parse("2026-11-26T18:10:00Z"), 600_000)).toBe(
      Date.parse("2026-11-26T18:20:00Z"),
    );
  });

  test("runs once at start, then on every boundary without drift", async () => {
    const clock = virtualClock(Date.parse("2026-11-26T18:04:10Z"));
    const controller = new AbortController();
    const starts: string[] = [];
    await runSchedule({
      intervalMs: 600_000,
      signal: controller.signal,
      now: clock.now,
      sleep: clock.sleep,
      cycle: async () => {
        starts.push(new Date(clock.now()).toISOString());
        clock.advance(3_217); // each cycle takes a few seconds; the next must not start later because of it
        if (starts.length === 4) controller.abort();
      },
    });
    expect(starts).toEqual([
      "2026-11-26T18:04:10.000Z",
      "2026-11-26T18:10:00.000Z",
      "2026-11-26T18:20:00.000Z",
      "2026-11-26T18:30:00.000Z",
    ]);
  });

  test("never runs two cycles at once and skips boundaries a long cycle missed", async () => {
    const clock = virtualClock(Date.parse("2026-11-26T18:00:00Z"));
    const controller = new AbortController();
    let running = 0;
    let maxRunning = 0;
    const starts: number[] = [];
    let skipped = 0;
    await runSchedule({
      intervalMs: 60_000,
      signal: controller.signal,
      runAtStart: false,
      now: clock.now,
      sleep: clock.sleep,
      onSkipped: (missed) => {
        skipped += missed;
      },
      cycle: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        starts.push(clock.now());
        clock.advance(starts.length === 1 ? 150_000 : 1_000); // the first cycle overruns two boundaries
        running--;
        if (starts.length === 3) controller.abort();
      },
    });
    expect(maxRunning).toBe(1);
    expect(skipped).toBe(2);
    expect(starts.map((t) => new Date(t).toISOString().slice(11, 19))).toEqual([
      "18:01:00",
      "18:04:00",
      "18:05:00",
    ]);
  });

  test("keeps going after a failed cycle and reports the error", async () => {
    const clock = virtualClock(0);
    const controller = new AbortController();
    const errors: unknown[] = [];
    let cycles = 0;
    await runSchedule({
      intervalMs: 1_000,
      signal: controller.signal,
      now: clock.now,
      sleep: clock.sleep,
      onError: (error) => errors.push(error),
      cycle: async () => {
        cycles++;
        if (cycles === 3) controller.abort();
        if (cycles === 1) throw new Error("CoinGecko down");
      },
    });
    expect(cycles).toBe(3);
    expect(errors).toHaveLength(1);
  });

  test("stops promptly on abort while waiting for the next boundary", async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 20);
    await runSchedule({
      intervalMs: 3_600_000,
      signal: controller.signal,
      runAtStart: false,
      cycle: async () => {},
    });
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
