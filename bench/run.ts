/**
 * `bun run bench`: every benchmark, each figure beside its baseline measured in this same invocation, then a
 * Markdown table on stdout and the same figures in bench/results/latest.json. Brings the local stack up (or
 * reuses it); a benchmark whose service cannot be reached is skipped with a note. Bounded: fixed loop counts,
 * and a watchdog that cleans up and exits should anything hang.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { printWarningsButKafkajsTimers } from "../lib/run/process.ts";
import { stackInfo } from "../scripts/stack/config.ts";
import { type StackInfo, startStack, status } from "../scripts/stack/index.ts";
import { apiLatest } from "./api-latest.ts";
import { cacheRedis } from "./cache-redis.ts";
import { consumerBatch } from "./consumer-batch.ts";
import type { Benchmark, Service } from "./context.ts";
import { drain } from "./drain.ts";
import { historyPostgres } from "./history-postgres.ts";
import { historySqlite } from "./history-sqlite.ts";
import { insertStrategies } from "./insert-strategies.ts";
import { kafkaPublish } from "./kafka-publish.ts";
import {
  describeMachine,
  type Figure,
  machineLine,
  markdownTable,
  ROUNDS,
  ratio,
  resultsJson,
} from "./measure.ts";
import { statusPage } from "./status-page.ts";
import { streamLatency } from "./stream-latency.ts";

printWarningsButKafkajsTimers();

const BENCHMARKS: readonly Benchmark[] = [
  historyPostgres,
  insertStrategies,
  historySqlite,
  cacheRedis,
  consumerBatch,
  kafkaPublish,
  statusPage,
  apiLatest,
  streamLatency,
  drain,
];
/**
 * Budget of the benchmarks once the stack answers (about 3 minutes on 2 cores with the stack running, the
 * drain's three rounds of 200,000 ticks about 75 s of it); past it something hangs, and cleaning up beats
 * waiting. A cold first start of the stack comes on top.
 */
const WATCHDOG_MS = 420_000;
/** A cleanup that takes longer (a broker that went away) is abandoned so the run still ends. */
const CLEANUP_TIMEOUT_MS = 15_000;
const RESULTS_FILE = join(import.meta.dir, "results", "latest.json");

const started = performance.now();
const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
const say = (line: string) => console.log(line);

/** Cleanups of the benchmark running now, newest last; also run by the watchdog and on Ctrl-C. */
let cleanups: (() => unknown)[] = [];

async function runCleanups(): Promise<void> {
  const pending = cleanups.reverse();
  cleanups = [];
  for (const cleanup of pending) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(cleanup),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`gave up after ${CLEANUP_TIMEOUT_MS / 1000}s`)),
            CLEANUP_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      say(`  cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Set once the run is being abandoned; the main loop then waits on it instead of starting anything new. */
let aborting: Promise<never> | undefined;

function abort(reason: string, code: number): Promise<never> {
  aborting ??= (async () => {
    say(`\n${reason}; cleaning up`);
    await runCleanups();
    process.exit(code);
  })();
  return aborting;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void abort(`${signal}`, 130));

/** Brings the stack up and says which services answer; a failure leaves the others usable. */
async function reachStack(): Promise<{ stack: StackInfo; up: Set<Service>; note?: string }> {
  const all: Service[] = ["postgres", "redis", "kafka"];
  try {
    const stack = await startStack({ log: (line) => say(`  stack ${line}`) });
    return { stack, up: new Set(all) };
  } catch (error) {
    const statuses = await status();
    const up = new Set(all.filter((name) => statuses.some((s) => s.name === name && s.healthy)));
    const firstLine = (error instanceof Error ? error.message : String(error))
      .split("\n")
      .slice(0, 3)
      .join(" ");
    return { stack: stackInfo(), up, note: firstLine };
  }
}

const machine = describeMachine();
say(`machine: ${machineLine(machine)}`);
say(
  "note: ours and its baseline run back to back in this invocation on this one machine, which also hosts " +
    "Kafka, Redis and Postgres; compare figures within a run, not across machines.",
);
say(`\nstack: bringing up Kafka, Redis and Postgres on 127.0.0.1 (reusing running ones)`);
const { stack, up, note } = await reachStack();
if (note) say(`  stack: not everything came up: ${note}`);
say(`  stack: up: ${[...up].join(", ") || "nothing"} (${seconds()}s)`);
setTimeout(() => void abort(`bench exceeded its ${WATCHDOG_MS / 1000}s budget`, 1), WATCHDOG_MS).unref();
// Other work on the machine slows both cases alike within a round, but whole runs compare only at similar load.
const loadAtStart = loadavg()[0] ?? Number.NaN;
say(`  load average (1 min) before the benchmarks: ${loadAtStart.toFixed(2)} on ${machine.cores} cores`);

const figures: Figure[] = [];
const skipped: { benchmark: string; reason: string }[] = [];
const failed: { benchmark: string; error: string }[] = [];

// `bun run bench page` runs only the benchmarks whose name holds "page" (all of them without an argument).
const only = process.argv[2]?.toLowerCase();
const selected = only ? BENCHMARKS.filter((b) => b.name.toLowerCase().includes(only)) : BENCHMARKS;
for (const [index, benchmark] of selected.entries()) {
  if (aborting) await aborting;
  say(`\n[${index + 1}/${selected.length}] ${benchmark.name} (t=${seconds()}s)`);
  const missing = benchmark.needs.filter((service) => !up.has(service));
  if (missing.length > 0) {
    const reason = `${missing.join(", ")} could not be brought up`;
    say(`  skipped: ${reason}`);
    skipped.push({ benchmark: benchmark.name, reason });
    continue;
  }
  const t0 = performance.now();
  try {
    const result = await benchmark.run({
      stack,
      log: (line) => say(`  ${line}`),
      defer: (cleanup) => {
        cleanups.push(cleanup);
        return async () => {
          const at = cleanups.indexOf(cleanup);
          if (at < 0) return;
          cleanups.splice(at, 1);
          await cleanup();
        };
      },
    });
    figures.push(...result);
    say(`  done in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  } catch (error) {
    // An abort closes connections under the running benchmark; its errors are not findings.
    if (aborting) await aborting;
    const message = error instanceof Error ? error.message : String(error);
    say(`  FAILED: ${message}`);
    failed.push({ benchmark: benchmark.name, error: message });
  } finally {
    await runCleanups();
  }
}

const loadAtEnd = loadavg()[0] ?? Number.NaN;
say(`\n## belly-stream benchmarks\n\nmachine: ${machineLine(machine)}`);
say(`load average (1 min): ${loadAtStart.toFixed(2)} before, ${loadAtEnd.toFixed(2)} after\n`);
say(markdownTable(figures));
say(
  `\nratio = ours / baseline, each the median of ${ROUNDS} interleaved rounds; ↑ higher is better, ↓ lower is.`,
);
for (const { benchmark, reason } of skipped) say(`skipped: ${benchmark}: ${reason}`);
for (const { benchmark, error } of failed) say(`failed: ${benchmark}: ${error}`);
say(`total: ${seconds()}s`);

mkdirSync(dirname(RESULTS_FILE), { recursive: true });
writeFileSync(
  RESULTS_FILE,
  resultsJson({
    createdAt: new Date().toISOString(),
    machine,
    loadAverage1m: { before: loadAtStart, after: loadAtEnd },
    note: `ours and baseline measured in the same invocation on this machine, median of ${ROUNDS} interleaved rounds`,
    elapsedSeconds: (performance.now() - started) / 1000,
    figures: figures.map((figure) => ({ ...figure, ratio: ratio(figure) })),
    skipped,
    failed,
  }),
);
say(`wrote ${RESULTS_FILE}`);
// Client libraries (kafkajs' reconnect timers, pools) can keep the event loop alive after their close.
process.exit(failed.length > 0 ? 1 : 0);
