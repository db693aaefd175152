import { existsSync } from "node:fs";
import { z } from "zod";
import type { CoinGeckoSettings } from "./adapters/coingecko/settings.ts";
import type { KafkaSettings } from "./adapters/kafka/settings.ts";
import { ConfigError } from "./errors.ts";
import { LOG_LEVELS, type LogLevel } from "./log.ts";

/** @deprecated name kept for callers: see {@link KafkaSettings}. */
export type KafkaConfig = KafkaSettings;
/** The CoinGecko settings. */
export type CoinGeckoConfig = CoinGeckoSettings;

/** Everything the producer and the consumer read from the environment, validated. */
export interface Config {
  kafka: KafkaConfig | null;
  fetchIntervalMs: number;
  assets: string[];
  currencies: string[];
  coingecko: CoinGeckoConfig;
  redis: { url: string; token: string | null } | null;
  supabase: { url: string; anonKey: string | null; serviceRoleKey: string | null } | null;
  databaseUrl: string | null;
  /** SQLite file of the history when neither Supabase nor Postgres is configured; null for the default. */
  sqlitePath: string | null;
  logLevel: LogLevel;
  port: number;
  /** Port of the producer's /healthz (Fly's check), or null for none. */
  healthPort: number | null;
  /** Every secret value, so that the logger can hide them wherever they appear. */
  secrets: string[];
}

const blankToUndefined = (value: unknown) =>
  typeof value === "string" && value.trim() === ""
    ? undefined
    : typeof value === "string"
      ? value.trim()
      : value;
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema.optional());
const idList = (what: string) =>
  z
    .string()
    .transform((raw) => [
      ...new Set(
        raw
          .split(",")
          .map((item) => item.trim().toLowerCase())
          .filter(Boolean),
      ),
    ])
    .pipe(
      z
        .array(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, `comma-separated ${what}`))
        .min(1, `at least one of ${what}`),
    );
const bool = z
  .string()
  .toLowerCase()
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no"], "true or false"))
  .transform((value) => ["true", "1", "yes"].includes(value));
const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`,
  );
const broker = /^[A-Za-z0-9.-]+:\d{1,5}$/;

const envSchema = z.object({
  KAFKA_BROKERS: optional(
    z
      .string()
      .transform((raw) =>
        raw
          .split(",")
          .map((item) => item.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(broker, "host:port[,host:port...]")).min(1, "host:port[,host:port...]")),
  ),
  KAFKA_TOPIC: optional(z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, "a Kafka topic name")),
  KAFKA_CONSUMER_GROUP: optional(z.string().min(1).max(200)),
  KAFKA_CLIENT_ID: optional(z.string().min(1).max(100)),
  KAFKA_SESSION_TIMEOUT_MS: optional(
    z.coerce.number("milliseconds").int().min(6_000, "at least 6000").max(300_000),
  ),
  KAFKA_USERNAME: optional(z.string()),
  KAFKA_PASSWORD: optional(z.string()),
  KAFKA_SASL_MECHANISM: optional(
    z
      .string()
      .toLowerCase()
      .pipe(z.enum(["plain", "scram-sha-256", "scram-sha-512"], "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")),
  ),
  KAFKA_SSL: optional(bool),
  KAFKA_CA_FILE: optional(z.string().refine((path) => existsSync(path), "a readable PEM file path")),
  FETCH_INTERVAL: optional(
    z.coerce.number("a number of seconds").int("whole seconds").min(1, "at least 1 second").max(86_400),
  ),
  ASSETS: optional(idList("CoinGecko ids")),
  VS_CURRENCIES: optional(idList("currency codes")),
  COINGECKO_API_KEY: optional(z.string()),
  COINGECKO_PLAN: optional(
    z
      .string()
      .toLowerCase()
      .pipe(z.enum(["public", "demo", "pro"], "public, demo or pro")),
  ),
  COINGECKO_BASE_URL: optional(url(["http:", "https:"])),
  COINGECKO_TIMEOUT_MS: optional(z.coerce.number("milliseconds").int().min(100).max(120_000)),
  REDIS_URL: optional(url(["redis:", "rediss:", "https:", "http:"])),
  REDIS_TOKEN: optional(z.string()),
  SUPABASE_URL: optional(url(["https:", "http:"])),
  SUPABASE_ANON_KEY: optional(z.string()),
  SUPABASE_SERVICE_ROLE_KEY: optional(z.string()),
  DATABASE_URL: optional(url(["postgres:", "postgresql:"])),
  SQLITE_PATH: optional(z.string().min(1)),
  LOG_LEVEL: optional(
    z
      .string()
      .toLowerCase()
      .pipe(z.enum(LOG_LEVELS, LOG_LEVELS.join(", "))),
  ),
  PORT: optional(
    z.coerce.number("a TCP port").int().min(0, "0-65535 (0 picks a free port)").max(65_535, "0-65535"),
  ),
  HEALTH_PORT: optional(z.coerce.number("a TCP port").int().min(1, "1-65535").max(65_535, "1-65535")),
});

/** Seed defaults. */
export const DEFAULTS = {
  topic: "belly-price",
  group: "belly-consumers",
  clientId: "belly-stream",
  fetchIntervalSeconds: 600,
  assets: ["beldex"],
  currencies: ["usd"],
  timeoutMs: 10_000,
  sessionTimeoutMs: 30_000,
  port: 8080,
} as const;

/**
 * Reads and validates the environment. Throws {@link ConfigError} with one line per bad variable.
 * Defaults: topic belly-price, group belly-consumers, FETCH_INTERVAL 600 s, beldex in usd, port 8080.
 * @example const config = loadConfig(Bun.env);
 */
export function loadConfig(env: Record<string, string | undefined> = Bun.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      const shown =
        name in env && !/PASSWORD|TOKEN|KEY/.test(name) ? ` (got "${String(env[name]).slice(0, 60)}")` : "";
      return `${name}: expected ${issue.message.replace(/^Invalid input: expected /, "")}${shown}`;
    });
    throw new ConfigError([...new Set(lines)]);
  }
  const e = parsed.data;
  const problems: string[] = [];

  let sasl: KafkaConfig["sasl"] = null;
  if (e.KAFKA_USERNAME || e.KAFKA_PASSWORD) {
    if (!e.KAFKA_USERNAME) problems.push("KAFKA_USERNAME: expected a user name, since KAFKA_PASSWORD is set");
    if (!e.KAFKA_PASSWORD) problems.push("KAFKA_PASSWORD: expected the password of KAFKA_USERNAME");
    sasl = {
      mechanism: e.KAFKA_SASL_MECHANISM ?? "scram-sha-256",
      username: e.KAFKA_USERNAME ?? "",
      password: e.KAFKA_PASSWORD ?? "",
    };
  }

  const plan = e.COINGECKO_PLAN ?? (e.COINGECKO_API_KEY ? "demo" : "public");
  if (plan !== "public" && !e.COINGECKO_API_KEY)
    problems.push(`COINGECKO_API_KEY: expected your CoinGecko key, since COINGECKO_PLAN is ${plan}`);

  if (e.REDIS_URL?.startsWith("http") && !e.REDIS_TOKEN)
    problems.push("REDIS_TOKEN: expected the Upstash REST token, since REDIS_URL is an https:// REST URL");
  if (e.SUPABASE_URL && !e.SUPABASE_ANON_KEY && !e.SUPABASE_SERVICE_ROLE_KEY)
    problems.push("SUPABASE_SERVICE_ROLE_KEY: expected a key, since SUPABASE_URL is set");
  if (problems.length) throw new ConfigError(problems);

  const topic = e.KAFKA_TOPIC ?? DEFAULTS.topic;
  const secrets = [
    e.KAFKA_PASSWORD,
    e.COINGECKO_API_KEY,
    e.REDIS_TOKEN,
    e.SUPABASE_ANON_KEY,
    e.SUPABASE_SERVICE_ROLE_KEY,
    ...[e.REDIS_URL, e.DATABASE_URL].map(urlPassword),
  ].filter((s): s is string => Boolean(s));

  return {
    kafka: e.KAFKA_BROKERS
      ? {
          brokers: e.KAFKA_BROKERS,
          topic,
          dlqTopic: `${topic}.dlq`,
          group: e.KAFKA_CONSUMER_GROUP ?? DEFAULTS.group,
          clientId: e.KAFKA_CLIENT_ID ?? DEFAULTS.clientId,
          sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS ?? DEFAULTS.sessionTimeoutMs,
          sasl,
          // SCRAM on Redpanda Cloud only works over TLS, so a username turns TLS on unless told otherwise.
          ssl: e.KAFKA_SSL ?? (sasl !== null || e.KAFKA_CA_FILE !== undefined),
          caFile: e.KAFKA_CA_FILE ?? null,
        }
      : null,
    fetchIntervalMs: (e.FETCH_INTERVAL ?? DEFAULTS.fetchIntervalSeconds) * 1000,
    assets: e.ASSETS ?? [...DEFAULTS.assets],
    currencies: e.VS_CURRENCIES ?? [...DEFAULTS.currencies],
    coingecko: {
      plan,
      apiKey: e.COINGECKO_API_KEY ?? null,
      baseUrl: e.COINGECKO_BASE_URL ?? null,
      timeoutMs: e.COINGECKO_TIMEOUT_MS ?? DEFAULTS.timeoutMs,
    },
    redis: e.REDIS_URL ? { url: e.REDIS_URL, token: e.REDIS_TOKEN ?? null } : null,
    supabase: e.SUPABASE_URL
      ? {
          url: e.SUPABASE_URL,
          anonKey: e.SUPABASE_ANON_KEY ?? null,
          serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY ?? null,
        }
      : null,
    databaseUrl: e.DATABASE_URL ?? null,
    sqlitePath: e.SQLITE_PATH ?? null,
    logLevel: e.LOG_LEVEL ?? "info",
    port: e.PORT ?? DEFAULTS.port,
    healthPort: e.HEALTH_PORT ?? null,
    secrets,
  };
}

function urlPassword(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return decodeURIComponent(new URL(value).password) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Loads the config or prints one line per bad variable to stderr and exits with code 2 (no stack trace).
 * @example const config = configOrExit();
 */
export function configOrExit(env: Record<string, string | undefined> = Bun.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const line of error.problems) process.stderr.write(`config: ${line}\n`);
    process.exit(2);
  }
}
