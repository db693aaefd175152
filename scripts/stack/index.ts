import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_PORTS, stateDir as defaultStateDir, type StackInfo, stackInfo } from "./config.ts";
import { kafkaService } from "./kafka.ts";
import { acquireLock } from "./lock.ts";
import { postgresService } from "./postgres.ts";
import { ensurePrerequisites } from "./prereqs.ts";
import { redisService } from "./redis.ts";
import type { Service, ServiceStatus, UpOutcome } from "./service.ts";
import { type Progress, quietProgress } from "./wait.ts";

export type { StackInfo } from "./config.ts";
export type { ServiceStatus } from "./service.ts";
export type { Progress } from "./wait.ts";

/** Options shared by {@link up}, {@link down} and {@link status}. */
export interface StackOptions {
  /** Where data, logs and pid files live. Default `.stack/` at the repo root (or `BELLY_STACK_DIR`). */
  stateDir?: string;
  /** Receives one line per step. Default: prints nothing. */
  progress?: Progress;
}

function services(dir: string): Service[] {
  return [kafkaService(dir), redisService(dir), postgresService(dir)];
}

/** Path of the JSON file that `up` writes with the connection settings. */
export function envFile(dir: string = defaultStateDir()): string {
  return join(dir, "env.json");
}

/**
 * Refuses to bring up the stack in `dir` on other ports than the ones it runs on: its pid files would make
 * `up` wait for servers on the new ports forever, or start a second Redis over the first one's pid file.
 * `env.json` is written by `up` and removed by `down`, so it is there exactly while the stack may run.
 */
function checkSamePorts(dir: string): void {
  if (!existsSync(envFile(dir))) return;
  let running: StackInfo;
  try {
    running = JSON.parse(readFileSync(envFile(dir), "utf8")) as StackInfo;
  } catch {
    return;
  }
  const wanted = stackInfo(dir);
  const same =
    running.kafka?.plaintext === wanted.kafka.plaintext &&
    running.redisUrl === wanted.redisUrl &&
    running.databaseUrl === wanted.databaseUrl;
  if (same) return;
  const port = Number(running.kafka?.plaintext?.split(":")[1]);
  const offset = Number.isInteger(port) ? port - BASE_PORTS.kafkaPlaintext : "its old";
  throw new Error(
    `stack: ${dir} was brought up on other ports (Kafka ${running.kafka?.plaintext}, so BELLY_STACK_PORT_OFFSET=${offset}); stop it with that offset first (BELLY_STACK_PORT_OFFSET=${offset} bun run scripts/stack.ts down) or use another BELLY_STACK_DIR`,
  );
}

/**
 * Brings Kafka, Redis and Postgres up, reusing any that already answer, and writes `.stack/env.json`.
 * Idempotent: when everything runs it only health-checks (well under 2 s).
 * Services start in parallel; every failure is reported, not only the first.
 */
export async function up(
  options: StackOptions = {},
): Promise<{ info: StackInfo; outcomes: Record<string, UpOutcome> }> {
  const dir = options.stateDir ?? defaultStateDir();
  const progress = options.progress ?? quietProgress;
  const release = await acquireLock(dir, progress);
  try {
    checkSamePorts(dir);
    const all = services(dir);
    const healthy = await Promise.all(all.map((svc) => svc.status().then((s) => s.healthy)));
    if (healthy.some((ok) => !ok)) await ensurePrerequisites(progress);
    const results = await Promise.allSettled(all.map((svc) => svc.up(progress)));
    const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
    if (failures.length > 0) {
      const message = failures
        .map((error) => (error instanceof Error ? error.message : String(error)))
        .join("\n\n");
      throw new Error(`stack up failed:\n${message}`);
    }
    const outcomes: Record<string, UpOutcome> = {};
    all.forEach((svc, i) => {
      const result = results[i];
      if (result?.status === "fulfilled") outcomes[svc.name] = result.value;
    });
    const info = stackInfo(dir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(envFile(dir), `${JSON.stringify(info, null, 2)}\n`);
    return { info, outcomes };
  } finally {
    release();
  }
}

/**
 * {@link up} for callers that only want the settings, with progress as plain lines (e.g. `kafka: ready in 8.2s`).
 * Default: prints nothing.
 */
export async function startStack(
  options: { log?: (line: string) => void; stateDir?: string } = {},
): Promise<StackInfo> {
  const log = options.log;
  const progress: Progress = log ? (service, message) => log(`${service}: ${message}`) : quietProgress;
  const { info } = await up({ progress, stateDir: options.stateDir });
  return info;
}

/**
 * Stops the services this stack started (per their pid files), gracefully then by force.
 * Services it found already running are left alone. With `wipe`, deletes the state dir too.
 * @returns one line per service saying what was done
 */
export async function down(options: StackOptions & { wipe?: boolean } = {}): Promise<string[]> {
  const dir = options.stateDir ?? defaultStateDir();
  const progress = options.progress ?? quietProgress;
  const wipe = options.wipe ?? false;
  const release = await acquireLock(dir, progress);
  let lines: string[];
  try {
    lines = await Promise.all(
      services(dir).map(async (svc) => {
        const did = await svc.down(wipe);
        progress(svc.name, did);
        return `${svc.name}: ${did}`;
      }),
    );
    rmSync(envFile(dir), { force: true });
  } finally {
    release();
  }
  if (wipe) {
    // Each service already deleted its own data (Postgres' may live under /tmp); this takes the rest.
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    progress("stack", `wiped ${dir}`);
    lines.push(`wiped ${dir}`);
  }
  return lines;
}

/** Health of each service, without starting or stopping anything. */
export async function status(options: StackOptions = {}): Promise<ServiceStatus[]> {
  const dir = options.stateDir ?? defaultStateDir();
  return Promise.all(services(dir).map((svc) => svc.status()));
}

/** Quotes a value for a POSIX shell. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The settings as shell `export` lines in the names `lib/config.ts` reads, for
 * `eval "$(bun run scripts/stack.ts env)"`. Default: Kafka over SASL_SSL with SCRAM-SHA-256 as `belly`,
 * like a hosted cluster; `plaintext` points at the unauthenticated listener instead.
 */
export function envExports(info: StackInfo, options: { plaintext?: boolean } = {}): string {
  const kafka: Record<string, string> = options.plaintext
    ? { KAFKA_BROKERS: info.kafka.plaintext }
    : {
        KAFKA_BROKERS: info.kafka.saslSsl,
        KAFKA_SSL: "true",
        KAFKA_CA_FILE: info.kafka.caFile,
        KAFKA_SASL_MECHANISM: "scram-sha-256",
        KAFKA_USERNAME: info.kafka.username,
        KAFKA_PASSWORD: info.kafka.password,
      };
  const vars = { ...kafka, REDIS_URL: info.redisUrl, DATABASE_URL: info.databaseUrl };
  return Object.entries(vars)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}`)
    .join("\n");
}
