import { existsSync } from "node:fs";
import { z } from "zod";
import { COINGECKO_CALLS_PER_MINUTE, type CoinGeckoSettings } from "./adapters/coingecko/settings.ts";
import { COINGECKO_STREAM_URL, type CoinGeckoStreamSettings } from "./adapters/coingecko/stream-settings.ts";
import type { KafkaSettings } from "./adapters/kafka/settings.ts";
import { ANON_WRITE_REFUSAL, assertWriteKey } from "./adapters/supabase/keys.ts";
import { parseDuration } from "./duration.ts";
import { ConfigError } from "./errors.ts";
import { LOG_LEVELS, type LogLevel } from "./log.ts";
import type { GuardSettings } from "./pipeline/price-guard.ts";
import type { PublishRuleSettings } from "./pipeline/publish-rule.ts";

/** Where the price history goes: Supabase's Data API, Postgres directly, or a SQLite file. */
export type HistorySettings =
  | { kind: "supabase"; url: string; writeKey: string; readKey: string | null }
  | { kind: "postgres"; url: string }
  /** `path` null: the run mode picks the default file (demo data gets its own). */
  | { kind: "sqlite"; path: string | null };

/** Where the latest price per pair goes: Upstash over REST, Redis over RESP, or process memory. */
export type CacheSettings =
  | { kind: "upstash"; url: string; token: string }
  | { kind: "redis"; url: string }
  | { kind: "memory" };

/** The Supabase project and its keys as given, checked by the doctor rather than refused (`all` role only). */
export interface SupabaseKeys {
  url: string;
  anonKey: string | null;
  serviceRoleKey: string | null;
}

/** What every process reads. */
interface Base {
  logLevel: LogLevel;
  /** Every secret value, so that the logger can hide them wherever they appear. */
  secrets: string[];
}

/** What the price source needs (producer, one-process mode, doctor). */
interface SourceSection {
  fetchIntervalMs: number;
  assets: string[];
  currencies: string[];
  coingecko: CoinGeckoSettings;
  /** CoinGecko's WebSocket stream (COINGECKO_STREAM=true, paid plans only); null polls over REST alone. */
  stream: CoinGeckoStreamSettings | null;
  /** Publish on change (DEVIATION_PCT) or HEARTBEAT; null publishes every reading (the default). */
  publishRule: PublishRuleSettings | null;
  /** Holds a reading jumping by more than GUARD_FACTOR until the next confirms it; null when off (the default). */
  guard: GuardSettings | null;
}

/** What the sinks and the status page need (consumer, one-process mode). */
interface SinkSection {
  history: HistorySettings;
  cache: CacheSettings;
  port: number;
  /** Address the HTTP server listens on (HOST). Default 127.0.0.1. */
  host: string;
  /** The producer's interval, or HEARTBEAT when longer: the status page calls data stale past twice this. */
  fetchIntervalMs: number;
  /** The direct Postgres connection, for `--migrate` (also the history when Supabase is not configured). */
  databaseUrl: string | null;
  /** CoinGecko ids and vs-currencies configured (default beldex, usd): the page lists their pairs first. */
  assets: string[];
  currencies: string[];
}

/** The process that reads the environment; each validates only what it uses. */
export type Role = "producer" | "consumer" | "dev" | "migrate" | "all";

/** The validated settings of each role. */
export interface Configs {
  producer: Base &
    SourceSection & {
      kafka: KafkaSettings;
      healthPort: number | null;
      /** Address the health server listens on (HOST). Default 127.0.0.1. */
      host: string;
      /** BACKFILL_ON_START: history to fetch for pairs the topic has no tick of yet; null (default) for none. */
      backfillOnStartMs: number | null;
    };
  consumer: Base & SinkSection & { kafka: KafkaSettings };
  dev: Base & SourceSection & SinkSection & { kafka: KafkaSettings | null };
  migrate: Base & { databaseUrl: string | null };
  /** Every variable (the doctor checks whatever is configured): Supabase keys as given, no history choice. */
  all: Base &
    SourceSection & {
      kafka: KafkaSettings | null;
      cache: CacheSettings;
      supabase: SupabaseKeys | null;
      databaseUrl: string | null;
      port: number;
      host: string;
      healthPort: number | null;
      backfillOnStartMs: number | null;
    };
}

/** Everything the environment configures (the `all` role): what the doctor and tests read. */
export type Config = Configs["all"];

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

const envShape = {
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
  COINGECKO_CALLS_PER_MINUTE: optional(
    z.coerce.number("calls per minute").int("a whole number").min(1, "at least 1").max(100_000),
  ),
  COINGECKO_STREAM: optional(bool),
  COINGECKO_STREAM_URL: optional(url(["wss:", "ws:"])),
  DEVIATION_PCT: optional(
    z.coerce
      .number("a percentage, e.g. 0.5")
      .positive("a percentage above 0, e.g. 0.5")
      .max(100, "at most 100"),
  ),
  HEARTBEAT: optional(
    z.coerce.number("a number of seconds").int("whole seconds").min(1, "at least 1 second").max(86_400),
  ),
  GUARD_FACTOR: optional(
    z.coerce.number("a factor above 1, e.g. 2").gt(1, "a factor above 1, e.g. 2").max(1_000, "at most 1000"),
  ),
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
  HOST: optional(
    z
      .string()
      .trim()
      .regex(/^(\[?[0-9A-Fa-f:.]+\]?|[A-Za-z0-9.-]+)$/, "a listen address such as 127.0.0.1, 0.0.0.0 or ::"),
  ),
  BACKFILL_ON_START: optional(
    z
      .string()
      .transform((raw) => parseDuration(raw))
      .pipe(z.number("a duration such as 2h or 30d (up to 3650d)")),
  ),
};
type EnvName = keyof typeof envShape;

const KAFKA_VARS = Object.keys(envShape).filter((name) => name.startsWith("KAFKA_")) as EnvName[];
const SOURCE_VARS: EnvName[] = [
  "FETCH_INTERVAL",
  "ASSETS",
  "VS_CURRENCIES",
  "COINGECKO_API_KEY",
  "COINGECKO_PLAN",
  "COINGECKO_BASE_URL",
  "COINGECKO_TIMEOUT_MS",
  "COINGECKO_CALLS_PER_MINUTE",
  "COINGECKO_STREAM",
  "COINGECKO_STREAM_URL",
  "DEVIATION_PCT",
  "HEARTBEAT",
  "GUARD_FACTOR",
];
const SINK_VARS: EnvName[] = [
  "FETCH_INTERVAL",
  "REDIS_URL",
  "REDIS_TOKEN",
  "SUPABASE_URL",
  "SUPABASE_ANON_KEY",
  "SUPABASE_SERVICE_ROLE_KEY",
  "DATABASE_URL",
  "SQLITE_PATH",
  "PORT",
  "HOST",
  // A publishing rule's heartbeat: the longest a flat price goes unpublished, so the page waits that long.
  "HEARTBEAT",
  // The page lists the configured pairs first and opens on the first of them.
  "ASSETS",
  "VS_CURRENCIES",
];

/** The variables each role reads (LOG_LEVEL always): a process never refuses a setting it does not use. */
const ROLE_VARIABLES: Readonly<Record<Role, readonly EnvName[]>> = {
  producer: [...KAFKA_VARS, ...SOURCE_VARS, "HEALTH_PORT", "HOST", "BACKFILL_ON_START"],
  consumer: [...KAFKA_VARS, ...SINK_VARS],
  dev: [...KAFKA_VARS, ...SOURCE_VARS, ...SINK_VARS],
  migrate: ["DATABASE_URL"],
  all: Object.keys(envShape) as EnvName[],
};

/** The one line a producer or consumer prints without brokers. */
const KAFKA_BROKERS_REQUIRED =
  "KAFKA_BROKERS: expected host:port[,host:port...] of your Kafka or Redpanda brokers (or use `bun run dev` to run everything in one process without Kafka)";

/** Seed defaults. */
const DEFAULTS = {
  topic: "belly-price",
  group: "belly-consumers",
  clientId: "belly-stream",
  fetchIntervalSeconds: 600,
  assets: ["beldex"],
  currencies: ["usd"],
  timeoutMs: 10_000,
  sessionTimeoutMs: 30_000,
  port: 8080,
  // Local runs stay off the LAN; the image and fly.toml set 0.0.0.0.
  host: "127.0.0.1",
} as const;

type Env = Record<string, string | undefined>;
type Parsed = { [K in EnvName]?: z.output<(typeof envShape)[K]> };

/**
 * Reads and validates the variables `role` uses, in one round: every bad or missing one is a line of the
 * {@link ConfigError} it throws, never only the first. Default role `all` (every variable; the doctor).
 * Defaults: topic belly-price, group belly-consumers, FETCH_INTERVAL 600 s, beldex in usd, port 8080 on HOST 127.0.0.1.
 * @example const config = loadConfig(Bun.env, "producer"); // config.kafka is never null here
 */
export function loadConfig<R extends Role = "all">(env: Env = Bun.env, role: R = "all" as R): Configs[R] {
  const names = new Set<EnvName>(["LOG_LEVEL", ...ROLE_VARIABLES[role]]);
  const shape = Object.fromEntries([...names].map((name) => [name, envShape[name]]));
  const parsed = z.object(shape).safeParse(env);
  const problems: string[] = [];
  if (!parsed.success)
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "environment");
      const shown =
        name in env && !/PASSWORD|TOKEN|KEY/.test(name) ? ` (got "${String(env[name]).slice(0, 60)}")` : "";
      problems.push(`${name}: expected ${issue.message.replace(/^Invalid input: expected /, "")}${shown}`);
    }
  // Checks across variables still run on what parsed, so a second round never brings new lines.
  const e = (parsed.success ? parsed.data : partialParse(shape, env)) as Parsed;
  const uses = (name: EnvName) => names.has(name);

  const kafka = uses("KAFKA_BROKERS") ? kafkaSettings(e, problems) : null;
  if (
    !kafka &&
    (role === "producer" || role === "consumer") &&
    !problems.some((p) => p.startsWith("KAFKA_BROKERS"))
  )
    problems.push(KAFKA_BROKERS_REQUIRED);
  const coingecko = uses("COINGECKO_PLAN") ? coingeckoSettings(e, problems) : null;
  const stream = coingecko ? streamSettings(e, coingecko, problems) : null;
  const publishRule = uses("DEVIATION_PCT") ? publishRuleSettings(e) : null;
  const guard = e.GUARD_FACTOR ? { factor: e.GUARD_FACTOR } : null;
  const cache = uses("REDIS_URL") ? cacheSettings(e, problems) : null;
  const history = uses("SUPABASE_URL") && role !== "all" ? historySettings(e, problems) : null;
  if (role === "all" && e.SUPABASE_URL && !e.SUPABASE_ANON_KEY && !e.SUPABASE_SERVICE_ROLE_KEY)
    problems.push("SUPABASE_SERVICE_ROLE_KEY: expected a key, since SUPABASE_URL is set");
  if (problems.length) throw new ConfigError([...new Set(problems)]);

  const secrets = [
    e.KAFKA_PASSWORD,
    e.COINGECKO_API_KEY,
    e.REDIS_TOKEN,
    e.SUPABASE_ANON_KEY,
    e.SUPABASE_SERVICE_ROLE_KEY,
    ...[e.REDIS_URL, e.DATABASE_URL].map(urlPassword),
  ].filter((s): s is string => Boolean(s));
  const all = {
    logLevel: e.LOG_LEVEL ?? "info",
    secrets,
    kafka,
    // The consumer's reading of it is the longest a pair may go without a tick: with a publishing rule a flat
    // price comes once per HEARTBEAT, so staleness and chart gaps count from that when it is longer.
    fetchIntervalMs:
      Math.max(
        e.FETCH_INTERVAL ?? DEFAULTS.fetchIntervalSeconds,
        role === "consumer" ? (e.HEARTBEAT ?? 0) : 0,
      ) * 1000,
    assets: e.ASSETS ?? [...DEFAULTS.assets],
    currencies: e.VS_CURRENCIES ?? [...DEFAULTS.currencies],
    coingecko,
    stream,
    publishRule,
    guard,
    cache,
    history,
    supabase: e.SUPABASE_URL
      ? {
          url: e.SUPABASE_URL,
          anonKey: e.SUPABASE_ANON_KEY ?? null,
          serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY ?? null,
        }
      : null,
    databaseUrl: e.DATABASE_URL ?? null,
    port: e.PORT ?? DEFAULTS.port,
    host: e.HOST ?? DEFAULTS.host,
    healthPort: e.HEALTH_PORT ?? null,
    backfillOnStartMs: e.BACKFILL_ON_START ?? null,
  };
  return all as unknown as Configs[R];
}

/** The variables that did parse, for the checks across variables when others did not. */
function partialParse(shape: Record<string, z.ZodType>, env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(shape)) {
    const result = schema.safeParse(env[name]);
    if (result.success) out[name] = result.data;
  }
  return out;
}

function kafkaSettings(e: Parsed, problems: string[]): KafkaSettings | null {
  let sasl: KafkaSettings["sasl"] = null;
  if (e.KAFKA_USERNAME || e.KAFKA_PASSWORD) {
    if (!e.KAFKA_USERNAME) problems.push("KAFKA_USERNAME: expected a user name, since KAFKA_PASSWORD is set");
    if (!e.KAFKA_PASSWORD) problems.push("KAFKA_PASSWORD: expected the password of KAFKA_USERNAME");
    sasl = {
      mechanism: e.KAFKA_SASL_MECHANISM ?? "scram-sha-256",
      username: e.KAFKA_USERNAME ?? "",
      password: e.KAFKA_PASSWORD ?? "",
    };
  }
  if (!e.KAFKA_BROKERS) return null;
  const topic = e.KAFKA_TOPIC ?? DEFAULTS.topic;
  return {
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
  };
}

function coingeckoSettings(e: Parsed, problems: string[]): CoinGeckoSettings {
  const common = {
    baseUrl: e.COINGECKO_BASE_URL ?? null,
    timeoutMs: e.COINGECKO_TIMEOUT_MS ?? DEFAULTS.timeoutMs,
  };
  const plan = e.COINGECKO_PLAN ?? (e.COINGECKO_API_KEY ? "demo" : "public");
  const callsPerMinute = e.COINGECKO_CALLS_PER_MINUTE ?? COINGECKO_CALLS_PER_MINUTE[plan];
  if (plan === "public") return { plan, apiKey: e.COINGECKO_API_KEY ?? null, ...common, callsPerMinute };
  if (!e.COINGECKO_API_KEY)
    problems.push(`COINGECKO_API_KEY: expected your CoinGecko key, since COINGECKO_PLAN is ${plan}`);
  return { plan, apiKey: e.COINGECKO_API_KEY ?? "", ...common, callsPerMinute };
}

function streamSettings(
  e: Parsed,
  coingecko: CoinGeckoSettings,
  problems: string[],
): CoinGeckoStreamSettings | null {
  if (!e.COINGECKO_STREAM) return null;
  // CoinGecko streams to paid keys only; a public or demo setup would reconnect forever to a refusal.
  if (coingecko.plan !== "pro")
    problems.push(
      `COINGECKO_STREAM: expected false on the ${coingecko.plan} plan: CoinGecko streams prices on paid plans only (set COINGECKO_PLAN=pro with a paid key)`,
    );
  return { url: e.COINGECKO_STREAM_URL ?? COINGECKO_STREAM_URL };
}

function publishRuleSettings(e: Parsed): PublishRuleSettings | null {
  if (e.DEVIATION_PCT === undefined && e.HEARTBEAT === undefined) return null;
  // Without a heartbeat a flat price would never be published again, and the page would call it stale.
  const heartbeatS = e.HEARTBEAT ?? e.FETCH_INTERVAL ?? DEFAULTS.fetchIntervalSeconds;
  return { deviationPct: e.DEVIATION_PCT ?? null, heartbeatMs: heartbeatS * 1000 };
}

function cacheSettings(e: Parsed, problems: string[]): CacheSettings {
  if (!e.REDIS_URL) return { kind: "memory" };
  if (!e.REDIS_URL.startsWith("http")) return { kind: "redis", url: e.REDIS_URL };
  if (!e.REDIS_TOKEN)
    problems.push("REDIS_TOKEN: expected the Upstash REST token, since REDIS_URL is an https:// REST URL");
  return { kind: "upstash", url: e.REDIS_URL, token: e.REDIS_TOKEN ?? "" };
}

function historySettings(e: Parsed, problems: string[]): HistorySettings {
  if (e.SUPABASE_URL) {
    const anonKey = e.SUPABASE_ANON_KEY ?? null;
    try {
      const writeKey = assertWriteKey({ anonKey, serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY ?? null });
      return { kind: "supabase", url: e.SUPABASE_URL, writeKey, readKey: anonKey };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(ANON_WRITE_REFUSAL);
    }
  }
  if (e.DATABASE_URL) return { kind: "postgres", url: e.DATABASE_URL };
  return { kind: "sqlite", path: e.SQLITE_PATH ?? null };
}

function urlPassword(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return decodeURIComponent(new URL(value).password) || undefined;
  } catch {
    return undefined;
  }
}
