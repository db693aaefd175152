/** The doctor as a whole: which check groups a config calls for, and one run that prints as it goes. */

import { coingeckoChecks } from "../adapters/coingecko/doctor.ts";
import { coingeckoStreamChecks } from "../adapters/coingecko/stream-doctor.ts";
import { kafkaChecks } from "../adapters/kafka/doctor.ts";
import { postgresChecks } from "../adapters/postgres/doctor.ts";
import { redisChecks } from "../adapters/redis/doctor.ts";
import { supabaseChecks } from "../adapters/supabase/doctor.ts";
import { upstashChecks } from "../adapters/upstash/doctor.ts";
import { type CheckGroup, type CheckResult, skip } from "../checks/check.ts";
import type { Config } from "../config.ts";
import { exitCodeFor, formatResult, formatSummary } from "./report.ts";
import { runChecks } from "./run.ts";

/** A dependency that is not configured: one skip line, so that a forgotten variable is visible. */
function notConfigured(subject: string, variable: string): CheckGroup {
  return {
    subject,
    checks: [
      {
        id: `${subject}.configured`,
        title: "configured",
        run: async () => skip(`not configured (set ${variable} to check it)`),
      },
    ],
  };
}

/**
 * The secrets to mask in the report: all of them, except one that equals a user or database name the report
 * names on purpose (local stacks use belly/belly). Such a password is no secret from whoever reads the user
 * name. Redaction hides a secret only where it stands as a token of its own, so names that merely contain it
 * ("belly-price") stay readable anyway; but `signed in as "belly" to database "belly"` holds it as whole tokens,
 * which would still print as `"***"` without this.
 */
export function maskedSecrets(config: Config): string[] {
  const names = new Set<string>();
  if (config.kafka?.sasl) names.add(config.kafka.sasl.username);
  for (const url of [config.databaseUrl, config.cache.kind === "memory" ? null : config.cache.url]) {
    if (!url) continue;
    const parsed = new URL(url);
    names.add(decodeURIComponent(parsed.username));
    names.add(decodeURIComponent(parsed.pathname.replace(/^\//, "")));
  }
  return config.secrets.filter((secret) => !names.has(secret));
}

/**
 * One check group per dependency, in a fixed order: kafka, redis (or upstash), postgres, supabase, coingecko,
 * and coingecko-stream when COINGECKO_STREAM is on.
 * Unset dependencies get a single "not configured" skip line.
 */
function doctorGroups(config: Config): CheckGroup[] {
  const { cache } = config;
  return [
    config.kafka ? kafkaChecks(config.kafka) : notConfigured("kafka", "KAFKA_BROKERS"),
    cache.kind === "memory"
      ? notConfigured("redis", "REDIS_URL")
      : cache.kind === "upstash"
        ? upstashChecks(cache.url, cache.token)
        : redisChecks(cache.url),
    config.databaseUrl ? postgresChecks(config.databaseUrl) : notConfigured("postgres", "DATABASE_URL"),
    config.supabase ? supabaseChecks(config.supabase) : notConfigured("supabase", "SUPABASE_URL"),
    coingeckoChecks({
      ...config.coingecko,
      assets: config.assets,
      currencies: config.currencies,
      fetchIntervalMs: config.fetchIntervalMs,
    }),
    // Only with COINGECKO_STREAM=true, which the config allows on the pro plan alone (so with a key).
    ...(config.stream
      ? [
          coingeckoStreamChecks({
            url: config.stream.url,
            apiKey: config.coingecko.apiKey ?? "",
            assets: config.assets,
            currencies: config.currencies,
          }),
        ]
      : []),
  ];
}

/** Options of {@link runDoctor}. */
interface DoctorOptions {
  /** Where lines go; default stdout. */
  write?: (line: string) => void;
  /** Deadline per check; default 10 s. */
  timeoutMs?: number;
  /** Check groups to run instead of {@link doctorGroups}' (for tests). */
  groups?: CheckGroup[];
}

/**
 * Runs every check, printing one line per check as soon as it is known, then a summary; returns the exit code
 * (0 when nothing failed, 1 otherwise) and the results.
 * @example const { code } = await runDoctor(loadConfig()); // the script exits with it
 */
export async function runDoctor(
  config: Config,
  options: DoctorOptions = {},
): Promise<{ code: 0 | 1; results: CheckResult[] }> {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const groups = options.groups ?? doctorGroups(config);
  write(`doctor: checking ${groups.map((g) => g.subject).join(", ")}`);
  const secrets = maskedSecrets(config);
  const results = await runChecks(groups, {
    timeoutMs: options.timeoutMs,
    onResult: (result) => write(formatResult(result, secrets)),
  });
  write(formatSummary(results));
  return { code: exitCodeFor(results), results };
}
