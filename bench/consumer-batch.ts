/**
 * The consumer's batch step in memory: createBatchProcessor with the in-memory history, cache and dead
 * letters over encoded messages, against a loop that only JSON.parses the same buffers. The gap is what
 * validation (zod), the fakes' identity bookkeeping and the batch log line cost per message.
 *
 * Each case runs in a child process of its own (`bun bench/consumer-batch.ts ours|baseline`): RSS seldom
 * shrinks after a collection, so in one process the second case would reuse the first one's pages and its
 * RSS growth would read near zero whichever code it ran.
 */

import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { silentLogger } from "../lib/log.ts";
import { createBatchProcessor } from "../lib/pipeline/consume.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import type { BatchContext, BusMessage } from "../lib/ports.ts";
import type { Benchmark } from "./context.ts";
import {
  chunk,
  compare,
  interleaved,
  type Metrics,
  mebibytes,
  perSecond,
  rate,
  rssPeak,
  settledMemory,
  timeSteps,
} from "./measure.ts";
import { benchMessages } from "./ticks.ts";

const MESSAGES = 100_000;
const BATCH = 500;
const WARMUP_MESSAGES = 10_000;
const WARMUP_FIRST_MINUTE = 1_000_000;
/** A child that has not answered by then is stuck; killing it keeps the whole run bounded. */
const CHILD_TIMEOUT_MS = 60_000;

type Case = "ours" | "baseline";

/** What one child process measured. */
interface CaseResult extends Metrics {
  messagesPerSecond: number;
  /** Heap kept alive by the measured loop, after a full collection. */
  heapGrowthMiB: number;
  /** From the RSS before the measured loop to the highest RSS sampled after each of its batches. */
  rssGrowthMiB: number;
}

const batchContext: BatchContext = { signal: new AbortController().signal, heartbeat: async () => {} };

function processor() {
  const history = createMemoryHistory();
  const cache = createMemoryCache();
  const step = createBatchProcessor({
    history,
    cache,
    deadLetters: { send: async () => {} },
    log: silentLogger,
    metrics: createConsumerMetrics(),
  });
  return { history, step };
}

/** Parses every message and keeps the values, as the fakes keep the ticks, so retained memory compares. */
function parseAll(batch: BusMessage[], into: unknown[]): void {
  for (const message of batch) into.push(JSON.parse((message.value as Buffer).toString("utf8")));
}

/** Measures one case in this process: warm-up, then throughput and memory kept over the measured batches. */
async function measureCase(which: Case): Promise<CaseResult> {
  const batches = chunk(benchMessages(MESSAGES), BATCH);
  const warmup = chunk(benchMessages(WARMUP_MESSAGES, WARMUP_FIRST_MINUTE), BATCH);

  // Each case gets a throwaway run over the warm-up batches first, so the JIT has compiled the code path.
  let step: (batch: BusMessage[]) => Promise<unknown> | unknown;
  let check: () => void;
  if (which === "ours") {
    const warm = processor();
    for (const batch of warmup) await warm.step(batch, batchContext);
    const ours = processor();
    let valid = 0;
    step = async (batch) => {
      valid += (await ours.step(batch, batchContext)).valid;
    };
    check = () => {
      if (valid !== MESSAGES || ours.history.rows.size !== MESSAGES)
        throw new Error(
          `ours: expected ${MESSAGES} valid and stored, got ${valid} and ${ours.history.rows.size}`,
        );
    };
  } else {
    for (const batch of warmup) parseAll(batch, []);
    const parsed: unknown[] = [];
    step = (batch) => parseAll(batch, parsed);
    check = () => {
      if (parsed.length !== MESSAGES)
        throw new Error(`baseline: expected ${MESSAGES} parsed, got ${parsed.length}`);
    };
  }

  const before = settledMemory();
  const peak = rssPeak();
  const timed = await timeSteps(batches.length, async (i) => {
    await step(batches[i] as BusMessage[]);
    peak.sample();
  });
  const after = settledMemory();
  check();
  return {
    messagesPerSecond: perSecond(MESSAGES, timed.totalMs),
    heapGrowthMiB: mebibytes(after.heapUsed - before.heapUsed),
    rssGrowthMiB: mebibytes(peak.bytes - before.rss),
  };
}

/** Runs one case in a fresh `bun` process and reads its result from the last line of its stdout. */
async function measureInChild(which: Case): Promise<CaseResult> {
  const child = Bun.spawn([process.execPath, import.meta.path, which], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: CHILD_TIMEOUT_MS,
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0)
    throw new Error(`consumer-batch ${which} exited with ${code}: ${stderr.trim().slice(-500)}`);
  const last = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as CaseResult;
}

/** Consumer batch step in memory, ours vs JSON.parse alone, each run in its own process. */
export const consumerBatch: Benchmark = {
  name: `consumer batch, in memory (${MESSAGES.toLocaleString("en-US")} messages, batches of ${BATCH})`,
  needs: [],
  async run(ctx) {
    ctx.log("ours: createBatchProcessor with memory history, memory cache, no-op dead letters");
    ctx.log("baseline: JSON.parse of the same buffers, values kept; each run in a child process");
    const rounds = await interleaved(
      { ours: () => measureInChild("ours"), baseline: () => measureInChild("baseline") },
      ctx.log,
      (m) => rate(m.messagesPerSecond, "msgs/s"),
    );
    const kept = `${MESSAGES / 1000}k kept`;
    return [
      compare(rounds, "messagesPerSecond", {
        benchmark: "Consumer batch step (memory fakes)",
        unit: "msgs/s",
        better: "higher",
      }),
      compare(rounds, "heapGrowthMiB", {
        benchmark: `Consumer heap growth after GC, ${kept}`,
        unit: "MiB",
        better: "lower",
      }),
      compare(rounds, "rssGrowthMiB", {
        benchmark: `Consumer RSS growth to peak, ${kept}`,
        unit: "MiB",
        better: "lower",
      }),
    ];
  },
};

if (import.meta.main) {
  const which = process.argv[2];
  if (which !== "ours" && which !== "baseline") {
    console.error(
      "usage: bun bench/consumer-batch.ts ours|baseline (run.ts calls this; use `bun run bench`)",
    );
    process.exit(2);
  }
  console.log(JSON.stringify(await measureCase(which)));
}
