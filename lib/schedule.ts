import { sleep as defaultSleep, StoppedError } from "./retry.ts";

/**
 * The next multiple of `intervalMs` strictly after `now` (epoch ms), so cycles land on wall-clock boundaries.
 * @example nextBoundary(Date.parse("2026-11-26T18:04:10Z"), 600_000) // 18:10:00
 */
export function nextBoundary(now: number, intervalMs: number): number {
  return (Math.floor(now / intervalMs) + 1) * intervalMs;
}

/** Options of {@link runSchedule}. */
export interface ScheduleOptions {
  intervalMs: number;
  /** One cycle; its errors are the caller's to handle (the loop goes on after a rejected cycle). */
  cycle: (scheduledAt: number) => Promise<void>;
  signal: AbortSignal;
  /** Also run once at start, before the first boundary. Default true: users see a price straight away. */
  runAtStart?: boolean;
  /** Called with a cycle's error; the loop continues. */
  onError?: (error: unknown) => void;
  /** Called when boundaries were missed because a cycle ran long. */
  onSkipped?: (missed: number) => void;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Runs `cycle` at every interval boundary on Bun's timers until the signal aborts. Single flight: a cycle
 * never starts while another runs; boundaries missed by a long cycle are skipped, not queued, and the next
 * cycle still lands on a boundary, so there is no drift.
 */
export async function runSchedule(options: ScheduleOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const { intervalMs, signal } = options;
  const runOnce = async (at: number) => {
    try {
      await options.cycle(at);
    } catch (error) {
      if (error instanceof StoppedError || signal.aborted) return;
      options.onError?.(error);
    }
  };
  try {
    if (options.runAtStart ?? true) await runOnce(now());
    let target = nextBoundary(now(), intervalMs);
    while (!signal.aborted) {
      const wait = target - now();
      if (wait > 0) await sleep(wait, signal);
      await runOnce(target);
      const next = nextBoundary(now(), intervalMs);
      const missed = Math.round((next - target) / intervalMs) - 1;
      if (missed > 0) options.onSkipped?.(missed);
      target = next;
    }
  } catch (error) {
    if (!(error instanceof StoppedError)) throw error;
  }
}
