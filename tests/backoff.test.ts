import { describe, expect, test } from "bun:test";
import { backoffDelay, parseRetryAfter, retry, sleep } from "../lib/retry.ts";

describe("backoffDelay", () => {
  test("doubles the ceiling per attempt from the base, scaled by the jitter", () => {
    const options = { baseMs: 1000, capMs: 60_000, random: () => 0.5 };
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, options))).toEqual([500, 1000, 2000, 4000]);
  });

  test("never exceeds the cap however many attempts failed", () => {
    const options = { baseMs: 1000, capMs: 60_000, random: () => 0.999999 };
    expect(backoffDelay(7, options)).toBe(59_999);
    expect(backoffDelay(1000, options)).toBe(59_999);
  });

  test("full jitter can be zero", () => {
    expect(backoffDelay(5, { random: () => 0 })).toBe(0);
  });

  test("defaults to a 1 s base and 60 s cap", () => {
    expect(backoffDelay(1, { random: () => 0.5 })).toBe(500);
    expect(backoffDelay(20, { random: () => 0.5 })).toBe(30_000);
  });

  test("stays within [0, ceiling) with the real random", () => {
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(3);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(4000);
    }
  });
});

describe("parseRetryAfter", () => {
  const now = new Date("2026-11-26T18:00:00Z");

  test("reads delay-seconds as milliseconds", () => {
    expect(parseRetryAfter("30", now)).toBe(30_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("1.5", now)).toBe(1500);
  });

  test("reads an HTTP-date relative to now", () => {
    expect(parseRetryAfter("Thu, 26 Nov 2026 18:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Thu, 26 Nov 2026 18:00:30 GMT", now.getTime())).toBe(30_000);
  });

  test("treats an HTTP-date in the past as no wait", () => {
    expect(parseRetryAfter("Thu, 26 Nov 2026 17:59:00 GMT", now)).toBe(0);
  });

  test("ignores absent, empty and unreadable headers", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter("1 2", now)).toBeUndefined();
  });
});

describe("retry", () => {
  const recorder = () => {
    const delays: number[] = [];
    return { delays, sleep: async (ms: number) => void delays.push(ms) };
  };

  test("returns the first success without waiting", async () => {
    const { delays, sleep } = recorder();
    expect(await retry(async () => "ok", { retries: 3, sleep })).toBe("ok");
    expect(delays).toEqual([]);
  });

  test("retries until success, passing the attempt number", async () => {
    const { delays, sleep } = recorder();
    const seen: number[] = [];
    const value = await retry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Error(`boom ${attempt}`);
        return attempt;
      },
      { retries: 5, sleep, delayFor: (_error, attempt) => attempt * 10 },
    );
    expect(value).toBe(3);
    expect(seen).toEqual([1, 2, 3]);
    expect(delays).toEqual([10, 20]);
  });

  test("rethrows the last error unchanged once the retries are spent", async () => {
    const { delays, sleep } = recorder();
    let calls = 0;
    const failing = retry(
      async () => {
        calls++;
        throw new Error(`failure ${calls}`);
      },
      { retries: 2, sleep, delayFor: () => 1 },
    );
    await expect(failing).rejects.toThrow("failure 3");
    expect(calls).toBe(3);
    expect(delays).toEqual([1, 1]);
  });

  test("stops at once when shouldRetry says no", async () => {
    const { delays, sleep } = recorder();
    let calls = 0;
    const fatal = new Error("fatal");
    const failing = retry(
      async () => {
        calls++;
        throw fatal;
      },
      { retries: 5, sleep, shouldRetry: (error) => error !== fatal },
    );
    await expect(failing).rejects.toBe(fatal);
    expect(calls).toBe(1);
    expect(delays).toEqual([]);
  });

  test("tells onRetry the error, attempt and delay before each wait", async () => {
    const { sleep } = recorder();
    const events: unknown[] = [];
    await retry(
      async (attempt) => {
        if (attempt === 1) throw new Error("first");
        return "ok";
      },
      {
        retries: 1,
        sleep,
        delayFor: () => 42,
        onRetry: ({ error, attempt, delayMs }) =>
          events.push({ message: (error as Error).message, attempt, delayMs }),
      },
    );
    expect(events).toEqual([{ message: "first", attempt: 1, delayMs: 42 }]);
  });

  test("uses full-jitter backoff by default", async () => {
    const { delays, sleep } = recorder();
    const failing = retry(
      async () => {
        throw new Error("x");
      },
      { retries: 3, sleep },
    );
    await expect(failing).rejects.toThrow("x");
    expect(delays).toHaveLength(3);
    expect(delays[0]).toBeLessThan(1000);
    expect(delays[2]).toBeLessThan(4000);
  });

  test("rejects with the abort reason when aborted during a wait, without another attempt", async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = performance.now();
    const failing = retry(
      async () => {
        calls++;
        throw new Error("down");
      },
      { retries: 3, delayFor: () => 60_000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error("shutting down")), 20);
    await expect(failing).rejects.toThrow("shutting down");
    expect(calls).toBe(1);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("does not call fn when the signal is already aborted", async () => {
    let calls = 0;
    const failing = retry(
      async () => {
        calls++;
        return 1;
      },
      { retries: 3, signal: AbortSignal.abort(new Error("already")) },
    );
    await expect(failing).rejects.toThrow("already");
    expect(calls).toBe(0);
  });
});

describe("sleep", () => {
  test("resolves after the delay", async () => {
    const started = performance.now();
    await sleep(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  });

  test("rejects at once with the reason of an already aborted signal", async () => {
    await expect(sleep(60_000, AbortSignal.abort(new Error("stop")))).rejects.toThrow("stop");
  });
});
