import { formatDuration } from "../duration.ts";
import type { Logger } from "../log.ts";

/** What a backfill tells about its progress. */
export interface BackfillProgress {
  /** The work ahead: windows (one request each). */
  start(totalWindows: number): void;
  /** One more window done, with the ticks it published. */
  advance(ticks: number): void;
  /** The end, whether complete or not. */
  finish(): void;
}

/** A progress that says nothing (tests, gap healing's own log lines). */
export const silentProgress: BackfillProgress = { start() {}, advance() {}, finish() {} };

/**
 * Progress on a terminal as one redrawn bar line (`write` gets the text, e.g. stderr), elsewhere as JSON log
 * lines "backfill progress" with done, total, ticks and an ETA, at most one per `everyMs` (default 2000 ms)
 * plus the last. The ETA is the time per window so far times the windows left. Default clock Date.now.
 * @example const progress = createBackfillProgress({ tty: process.stderr.isTTY === true, write, log });
 */
export function createBackfillProgress(options: {
  tty: boolean;
  write: (text: string) => void;
  log: Logger;
  everyMs?: number;
  now?: () => number;
}): BackfillProgress {
  const now = options.now ?? Date.now;
  const everyMs = options.everyMs ?? 2_000;
  let total = 0;
  let done = 0;
  let ticks = 0;
  let started = 0;
  let lastLine = Number.NEGATIVE_INFINITY;
  const etaMs = () => (done === 0 ? null : ((now() - started) / done) * (total - done));

  const bar = () => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const eta = etaMs();
    const tail =
      eta === null
        ? ""
        : done === total
          ? ` in ${formatDuration(now() - started)}`
          : `, ETA ${formatDuration(eta)}`;
    options.write(
      `\rbackfill [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} windows, ${ticks} ticks${tail}\x1b[K`,
    );
  };
  const line = (force: boolean) => {
    if (!force && now() - lastLine < everyMs) return;
    lastLine = now();
    const eta = etaMs();
    options.log.info("backfill progress", {
      done,
      total,
      ticks,
      pct: total === 0 ? 100 : Math.floor((done / total) * 100),
      ...(eta === null ? {} : { etaS: Math.round(eta / 1000), eta: formatDuration(eta) }),
    });
  };
  const show = (force: boolean) => (options.tty ? bar() : line(force));

  return {
    start(windows) {
      total = windows;
      started = now();
      show(true);
    },
    advance(published) {
      done++;
      ticks += published;
      show(done === total);
    },
    finish() {
      if (options.tty) options.write("\n");
    },
  };
}
