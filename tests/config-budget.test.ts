// The issue 12 settings: COINGECKO_CALLS_PER_MINUTE (default per plan) and BACKFILL_ON_START (a duration).
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../lib/config.ts";
import { ConfigError } from "../lib/errors.ts";

const BROKERS = { KAFKA_BROKERS: "127.0.0.1:19092" };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...BROKERS, ...env }, "producer");
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("request budget and backfill settings", () => {
  test("calls per minute default per plan: public 5, demo 30, pro 500; a value overrides it", () => {
    const calls = (env: Record<string, string>) =>
      loadConfig({ ...BROKERS, ...env }, "producer").coingecko.callsPerMinute;
    expect(calls({})).toBe(5);
    expect(calls({ COINGECKO_API_KEY: "CG-demo" })).toBe(30);
    expect(calls({ COINGECKO_PLAN: "pro", COINGECKO_API_KEY: "CG-pro" })).toBe(500);
    expect(calls({ COINGECKO_CALLS_PER_MINUTE: "12" })).toBe(12);
  });

  test("BACKFILL_ON_START is off by default and takes durations such as 2h and 30d", () => {
    expect(loadConfig(BROKERS, "producer").backfillOnStartMs).toBeNull();
    expect(loadConfig({ ...BROKERS, BACKFILL_ON_START: "30d" }, "producer").backfillOnStartMs).toBe(
      30 * 86_400_000,
    );
    expect(loadConfig({ ...BROKERS, BACKFILL_ON_START: "2h" }, "producer").backfillOnStartMs).toBe(7_200_000);
  });

  test("bad values give one line per variable, in one round", () => {
    expect(problems({ COINGECKO_CALLS_PER_MINUTE: "0", BACKFILL_ON_START: "a month" })).toEqual([
      'COINGECKO_CALLS_PER_MINUTE: expected at least 1 (got "0")',
      'BACKFILL_ON_START: expected a duration such as 2h or 30d (up to 3650d) (got "a month")',
    ]);
    expect(problems({ COINGECKO_CALLS_PER_MINUTE: "2.5" })).toEqual([
      'COINGECKO_CALLS_PER_MINUTE: expected a whole number (got "2.5")',
    ]);
  });

  test("the consumer ignores them", () => {
    expect(() =>
      loadConfig({ ...BROKERS, COINGECKO_CALLS_PER_MINUTE: "nope", BACKFILL_ON_START: "nope" }, "consumer"),
    ).not.toThrow();
  });
});
