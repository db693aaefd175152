// The settings of issue 13: the stream (paid plans only), the publishing rule and the guard, all off by default.
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../lib/config.ts";
import { ConfigError } from "../lib/errors.ts";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, "producer");
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const kafka = { KAFKA_BROKERS: "127.0.0.1:9092" };
const pro = { ...kafka, COINGECKO_PLAN: "pro", COINGECKO_API_KEY: "CG-pro-key-1234" };

describe("stream, rule and guard settings", () => {
  test("all off by default", () => {
    const config = loadConfig(kafka, "producer");
    expect(config.stream).toBeNull();
    expect(config.publishRule).toBeNull();
    expect(config.guard).toBeNull();
  });

  test("COINGECKO_STREAM on the pro plan: CoinGecko's stream URL unless COINGECKO_STREAM_URL says otherwise", () => {
    expect(loadConfig({ ...pro, COINGECKO_STREAM: "true" }, "producer").stream).toEqual({
      url: "wss://stream.coingecko.com/v1",
    });
    const local = loadConfig(
      { ...pro, COINGECKO_STREAM: "1", COINGECKO_STREAM_URL: "ws://127.0.0.1:1234/v1" },
      "producer",
    );
    expect(local.stream?.url).toBe("ws://127.0.0.1:1234/v1");
    expect(loadConfig({ ...pro, COINGECKO_STREAM: "false" }, "producer").stream).toBeNull();
  });

  test.each([
    ["public", { ...kafka, COINGECKO_STREAM: "true" }],
    ["demo", { ...kafka, COINGECKO_STREAM: "true", COINGECKO_API_KEY: "CG-demo-key-1234" }],
  ])("the %s plan is refused with one line", (plan, env) => {
    expect(problems(env)).toEqual([
      `COINGECKO_STREAM: expected false on the ${plan} plan: CoinGecko streams prices on paid plans only (set COINGECKO_PLAN=pro with a paid key)`,
    ]);
  });

  test("bad values: one line per variable, all in one round", () => {
    expect(
      problems({
        ...pro,
        COINGECKO_STREAM: "maybe",
        COINGECKO_STREAM_URL: "https://stream.coingecko.com/v1",
        DEVIATION_PCT: "0",
        GUARD_FACTOR: "1",
      }),
    ).toEqual([
      'COINGECKO_STREAM: expected true or false (got "maybe")',
      'COINGECKO_STREAM_URL: expected a URL starting with wss:// or ws:// (got "https://stream.coingecko.com/v1")',
      'DEVIATION_PCT: expected a percentage above 0, e.g. 0.5 (got "0")',
      'GUARD_FACTOR: expected a factor above 1, e.g. 2 (got "1")',
    ]);
  });

  test("the rule: HEARTBEAT defaults to FETCH_INTERVAL; the consumer waits for the longer of the two", () => {
    expect(
      loadConfig({ ...kafka, DEVIATION_PCT: "0.5", FETCH_INTERVAL: "60" }, "producer").publishRule,
    ).toEqual({
      deviationPct: 0.5,
      heartbeatMs: 60_000,
    });
    // Poll often, publish on change: a 10 s poll with a 10-minute heartbeat.
    const often = { ...kafka, FETCH_INTERVAL: "10", DEVIATION_PCT: "0.5", HEARTBEAT: "600" };
    expect(loadConfig(often, "producer")).toMatchObject({
      fetchIntervalMs: 10_000,
      publishRule: { deviationPct: 0.5, heartbeatMs: 600_000 },
    });
    expect(loadConfig(often, "consumer").fetchIntervalMs).toBe(600_000);
    expect(
      loadConfig({ ...kafka, FETCH_INTERVAL: "900", HEARTBEAT: "600" }, "consumer").fetchIntervalMs,
    ).toBe(900_000);
    expect(loadConfig({ ...kafka, HEARTBEAT: "30" }, "producer").publishRule).toEqual({
      deviationPct: null,
      heartbeatMs: 30_000,
    });
    expect(loadConfig({ ...kafka, GUARD_FACTOR: "3" }, "producer").guard).toEqual({ factor: 3 });
  });
});
