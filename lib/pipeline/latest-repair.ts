// Rebuilds the latest cache from the history when it lost its keys (Redis flushed, keys evicted, a new Redis):
// otherwise a pair stays unknown to the status API until its next tick, which may be ten minutes away.
import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { HistoryStore, LatestCache } from "../ports.ts";
import { sleep as defaultSleep, type Sleep, StoppedError, withTimeout } from "../retry.ts";

/** Least time between the starts of two shared repairs: 30 s. */
export const REPAIR_MIN_INTERVAL_MS = 30_000;
/** Longest a shared repair may take before it counts as failed: 30 s. */
export const REPAIR_TIMEOUT_MS = 30_000;
/** Ticks per cache write, so that one request stays small on a REST transport (Upstash) too. */
const REPAIR_CHUNK = 500;

/** What one repair did. */
export interface RepairResult {
  /** Pairs the history knows. */
  known: number;
  /** Pairs whose cached tick was missing or older, now the history's newest. */
  restored: number;
}

/**
 * Writes the history's newest tick of every pair through the cache's write-if-newer, so that pairs the cache
 * lost come back and pairs it holds a newer tick of stay as they are (a repair never moves a price backwards).
 * Logs one info line when it restored any pair. Throws whatever the sinks throw.
 * @example const { restored } = await repairLatest(history, cache, log);
 */
export async function repairLatest(
  history: Pick<HistoryStore, "latest">,
  cache: Pick<LatestCache, "putIfNewer">,
  log: Logger,
): Promise<RepairResult> {
  const newest = await history.latest();
  let restored = 0;
  for (let start = 0; start < newest.length; start += REPAIR_CHUNK)
    restored += (await cache.putIfNewer(newest.slice(start, start + REPAIR_CHUNK))).updated;
  if (restored > 0) log.info("latest cache restored from history", { pairs: restored, known: newest.length });
  return { known: newest.length, restored };
}

/**
 * A repair shared by every caller: resolves true when the repair it started or joined succeeded, false when
 * it failed (logged) or was skipped because another started less than the minimum interval ago. Never rejects.
 */
export type LatestRepair = () => Promise<boolean>;

/** Options of {@link createLatestRepair}. */
export interface LatestRepairOptions {
  history: Pick<HistoryStore, "latest">;
  cache: Pick<LatestCache, "putIfNewer">;
  log: Logger;
  /** Least time between the starts of two repairs. Default {@link REPAIR_MIN_INTERVAL_MS}. */
  minIntervalMs?: number;
  /** A repair running longer counts as failed and frees the next one. Default {@link REPAIR_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Clock (epoch ms). Default Date.now. */
  now?: () => number;
}

/**
 * {@link repairLatest} made safe to call on every cache miss: concurrent callers share one run, a run starts
 * at most once per `minIntervalMs` (so misses of a pair nobody knows cost the history one read per interval,
 * not one per request), and a failure is logged as a warning instead of thrown.
 * @example const repair = createLatestRepair({ history, cache, log }); await repair();
 */
export function createLatestRepair(options: LatestRepairOptions): LatestRepair {
  const minIntervalMs = options.minIntervalMs ?? REPAIR_MIN_INTERVAL_MS;
  const timeoutMs = options.timeoutMs ?? REPAIR_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const { history, cache, log } = options;
  let running: Promise<boolean> | undefined;
  let startedAt: number | undefined;
  return () => {
    if (running) return running;
    if (startedAt !== undefined && now() - startedAt < minIntervalMs) return Promise.resolve(false);
    startedAt = now();
    running = withTimeout(
      timeoutMs,
      () => repairLatest(history, cache, log),
      () => new Error(`no answer within ${timeoutMs} ms`),
    )
      .then(
        () => true,
        (error: unknown) => {
          log.warn("latest cache repair failed", { error: describeError(error) });
          return false;
        },
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}

/**
 * Calls `repair` until it succeeds or the signal aborts, waiting `intervalMs` before each call (the first
 * included: it is meant to follow a failed one). Resolves either way; a stop is not an error.
 * @example void repairUntilDone(repair, { signal }); // after the start-up repair failed
 */
export async function repairUntilDone(
  repair: LatestRepair,
  options: { signal: AbortSignal; intervalMs?: number; sleep?: Sleep },
): Promise<void> {
  const wait = options.sleep ?? defaultSleep;
  const intervalMs = options.intervalMs ?? REPAIR_MIN_INTERVAL_MS;
  try {
    do await wait(intervalMs, options.signal);
    while (!(await repair()));
  } catch (error) {
    if (!(error instanceof StoppedError)) throw error;
  }
}
