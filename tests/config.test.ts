import { describe, expect, test } from "bun:test";
import { loadConfig, type Role } from "../lib/config.ts";
import { ConfigError } from "../lib/errors.ts";

function problems(env: Record<string, string>, role: Role = "all"): string[] {
  try {
    loadConfig(env, role);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  test("applies the seed's defaults to an empty environment", () => {
    const config = loadConfig({});
    expect(config.kafka).toBeNull();
    expect(config.fetchIntervalMs).toBe(600_000);
    expect(config.assets).toEqual(["beldex"]);
    expect(config.currencies).toEqual(["usd"]);
    expect(config.coingecko.plan).toBe("public");
    expect(config.port).toBe(8080);
    expect(config.host).toBe("127.0.0.1");
  });

  test("listens where HOST says, for the consumer and the producer alike, and refuses what is no address", () => {
    const broker = { KAFKA_BROKERS: "127.0.0.1:9092" };
    expect(loadConfig({ ...broker, HOST: "0.0.0.0" }, "consumer").host).toBe("0.0.0.0");
    expect(loadConfig({ ...broker, HOST: "::" }, "producer").host).toBe("::");
    expect(problems({ ...broker, HOST: "http://x/" }, "consumer")).toEqual([
      'HOST: expected a listen address such as 127.0.0.1, 0.0.0.0 or :: (got "http://x/")',
    ]);
  });

  test("reads a seed-style Redpanda Cloud .env: several brokers, SCRAM over TLS by default", () => {
    const config = loadConfig({
      KAFKA_BROKERS: "seed-1.cloud.redpanda.com:9092, seed-2.cloud.redpanda.com:9092",
      KAFKA_USERNAME: "belly",
      KAFKA_PASSWORD: "s3cret-pass",
      FETCH_INTERVAL: "60",
    });
    expect(config.kafka).toMatchObject({
      brokers: ["seed-1.cloud.redpanda.com:9092", "seed-2.cloud.redpanda.com:9092"],
      topic: "belly-price",
      dlqTopic: "belly-price.dlq",
      group: "belly-consumers",
      ssl: true,
      sasl: { mechanism: "scram-sha-256", username: "belly", password: "s3cret-pass" },
    });
    expect(config.fetchIntervalMs).toBe(60_000);
    expect(config.secrets).toContain("s3cret-pass");
  });

  test("lets KAFKA_SSL=false and KAFKA_SASL_MECHANISM override the defaults", () => {
    const config = loadConfig({
      KAFKA_BROKERS: "127.0.0.1:9092",
      KAFKA_USERNAME: "u",
      KAFKA_PASSWORD: "p",
      KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
      KAFKA_SSL: "false",
    });
    expect(config.kafka?.ssl).toBe(false);
    expect(config.kafka?.sasl?.mechanism).toBe("scram-sha-512");
  });

  test("normalises asset and currency lists", () => {
    const config = loadConfig({ ASSETS: " Beldex,bitcoin ,, bitcoin", VS_CURRENCIES: "USD,eur" });
    expect(config.assets).toEqual(["beldex", "bitcoin"]);
    expect(config.currencies).toEqual(["usd", "eur"]);
  });

  test("reports one line per bad variable, naming it and what it expects", () => {
    const lines = problems({
      KAFKA_BROKERS: "not a broker",
      FETCH_INTERVAL: "ten",
      PORT: "70000",
      KAFKA_SASL_MECHANISM: "gssapi",
      LOG_LEVEL: "loud",
    });
    expect(lines).toHaveLength(5);
    for (const name of ["KAFKA_BROKERS", "FETCH_INTERVAL", "PORT", "KAFKA_SASL_MECHANISM", "LOG_LEVEL"])
      expect(lines.some((line) => line.startsWith(`${name}: expected`))).toBe(true);
  });

  test("never echoes a secret value in its error", () => {
    const lines = problems({ KAFKA_BROKERS: "a:1", KAFKA_PASSWORD: "hunter2-secret" });
    expect(lines).toEqual(["KAFKA_USERNAME: expected a user name, since KAFKA_PASSWORD is set"]);
    expect(lines.join()).not.toContain("hunter2-secret");
  });

  test("asks for a key when a paid CoinGecko plan is chosen", () => {
    expect(problems({ COINGECKO_PLAN: "pro" })).toEqual([
      "COINGECKO_API_KEY: expected your CoinGecko key, since COINGECKO_PLAN is pro",
    ]);
    expect(loadConfig({ COINGECKO_API_KEY: "CG-x" }).coingecko.plan).toBe("demo");
  });

  test("rejects a KAFKA_CA_FILE that does not exist", () => {
    expect(problems({ KAFKA_CA_FILE: "/nonexistent/ca.pem" })[0]).toStartWith("KAFKA_CA_FILE: expected");
  });

  test("collects passwords inside URLs as secrets", () => {
    const config = loadConfig({ DATABASE_URL: "postgres://belly:pg-pass-123@127.0.0.1:5432/belly" });
    expect(config.secrets).toContain("pg-pass-123");
  });
});

describe("config per process", () => {
  const upstashWithoutToken = { REDIS_URL: "https://x.upstash.io" };
  const anonOnly = { SUPABASE_URL: "https://p.supabase.co", SUPABASE_ANON_KEY: "anon-key-123" };

  test("the producer ignores the sinks' settings and the consumer the source's", () => {
    const broker = { KAFKA_BROKERS: "b:9092" };
    expect(() =>
      loadConfig({ ...broker, ...upstashWithoutToken, ...anonOnly, PORT: "x" }, "producer"),
    ).not.toThrow();
    expect(() =>
      loadConfig(
        { ...broker, COINGECKO_PLAN: "pro", HEALTH_PORT: "x", COINGECKO_TIMEOUT_MS: "x" },
        "consumer",
      ),
    ).not.toThrow();
  });

  test("the consumer reads ASSETS and VS_CURRENCIES for its page, with the seed's defaults", () => {
    const broker = { KAFKA_BROKERS: "b:9092" };
    const configured = loadConfig(
      { ...broker, ASSETS: "bitcoin, ethereum,beldex", VS_CURRENCIES: "USD,eur,btc" },
      "consumer",
    );
    expect(configured.assets).toEqual(["bitcoin", "ethereum", "beldex"]);
    expect(configured.currencies).toEqual(["usd", "eur", "btc"]);
    const seed = loadConfig(broker, "consumer");
    expect([seed.assets, seed.currencies]).toEqual([["beldex"], ["usd"]]);
    expect(problems({ ...broker, ASSETS: "!" }, "consumer")).toEqual([
      expect.stringMatching(/^ASSETS: expected comma-separated CoinGecko ids/),
    ]);
  });

  test("reports every problem of a process in one round, missing brokers included", () => {
    expect(problems({ FETCH_INTERVAL: "ten", COINGECKO_PLAN: "pro" }, "producer")).toEqual([
      expect.stringMatching(/^FETCH_INTERVAL: expected/),
      expect.stringMatching(/^KAFKA_BROKERS: expected .*bun run dev/),
      "COINGECKO_API_KEY: expected your CoinGecko key, since COINGECKO_PLAN is pro",
    ]);
    const consumer = problems({ ...upstashWithoutToken, ...anonOnly }, "consumer");
    expect(consumer).toHaveLength(3);
    for (const name of ["KAFKA_BROKERS", "REDIS_TOKEN", "SUPABASE_SERVICE_ROLE_KEY"])
      expect(consumer.some((line) => line.startsWith(`${name}: expected`))).toBe(true);
  });

  test("names the history and the cache as tagged settings, chosen once", () => {
    const service = "sb_secret_abc123";
    const both = { DATABASE_URL: "postgres://u:p@h:5432/d", SUPABASE_URL: "https://p.supabase.co" };
    expect(loadConfig({ ...both, SUPABASE_SERVICE_ROLE_KEY: service }, "dev").history).toEqual({
      kind: "supabase",
      url: "https://p.supabase.co",
      writeKey: service,
      readKey: null,
    });
    expect(loadConfig({ DATABASE_URL: both.DATABASE_URL }, "dev").history).toEqual({
      kind: "postgres",
      url: both.DATABASE_URL,
    });
    expect(loadConfig({}, "dev").history).toEqual({ kind: "sqlite", path: null });
    expect(loadConfig({ REDIS_URL: "https://x.upstash.io", REDIS_TOKEN: "t0ken" }, "dev").cache).toEqual({
      kind: "upstash",
      url: "https://x.upstash.io",
      token: "t0ken",
    });
    expect(loadConfig({ REDIS_URL: "redis://127.0.0.1:6379" }, "dev").cache.kind).toBe("redis");
    expect(loadConfig({}, "dev").cache.kind).toBe("memory");
  });

  test("migrate reads only DATABASE_URL", () => {
    expect(
      loadConfig({ KAFKA_BROKERS: "not a broker", DATABASE_URL: "postgres://h/d" }, "migrate").databaseUrl,
    ).toBe("postgres://h/d");
  });
});
