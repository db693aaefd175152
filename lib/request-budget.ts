import { sleep as defaultSleep, type Sleep, stopReason } from "./retry.ts";

/** Who asks for a call: the live poll goes first; backfill and gap healing use what it leaves. */
export type RequestPriority = "live" | "background";

/** One process's calls per minute to an API, shared by every request it makes, failed ones included. */
export interface RequestBudget {
  /**
   * Waits until a call may be made without exceeding the limit, then spends it. Live callers are served
   * before background ones, and background ones never take the calls kept back for the live poll.
   * Rejects with the signal's stop reason when it aborts while waiting.
   */
  take(priority: RequestPriority, signal?: AbortSignal): Promise<void>;
  /** The limit: calls within any {@link RequestBudgetOptions.windowMs}. */
  readonly callsPerMinute: number;
  /** Calls spent since the start. */
  readonly spent: number;
  /** Most calls spent within any one window so far (never above the limit). */
  readonly peak: number;
  /** Callers waiting for a call now. */
  readonly waiting: number;
}

/** Options of {@link createRequestBudget}; only `callsPerMinute` is required. */
export interface RequestBudgetOptions {
  /** Calls allowed within any window. */
  callsPerMinute: number;
  /** The window the limit counts in. Default 60000 ms. */
  windowMs?: number;
  /**
   * Extra wait past the window before a spent call counts as returned. Default 1000 ms: the API counts a call
   * when it arrives, a little after we spent it, and its clock is not ours.
   */
  marginMs?: number;
  /** Calls background callers leave free for the live poll (at most the limit minus one). Default 1. */
  reserveForLive?: number;
  /** Clock in epoch ms. Default Date.now. */
  now?: () => number;
  /** Waits between checks. Default {@link defaultSleep}. */
  sleep?: Sleep;
}

interface Waiter {
  priority: RequestPriority;
  resolve(): void;
  reject(error: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * A budget of `callsPerMinute` calls within any sliding minute: a token bucket whose every spent token comes
 * back one window (plus a margin) after it was spent. A classic bucket refilled at a steady rate lets a full
 * bucket and a minute's refill through in one minute, twice the limit; this one never does, in any window.
 * Defaults: window 60 s, margin 1 s, one call kept for the live poll.
 * @example const budget = createRequestBudget({ callsPerMinute: 30 }); await budget.take("live", signal);
 */
export function createRequestBudget(options: RequestBudgetOptions): RequestBudget {
  const limit = Math.max(1, Math.floor(options.callsPerMinute));
  const windowMs = options.windowMs ?? 60_000;
  const holdMs = windowMs + (options.marginMs ?? 1_000);
  const reserve = Math.max(0, Math.min(options.reserveForLive ?? 1, limit - 1));
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  /** When each call still counting was spent, oldest first. */
  let spentAt: number[] = [];
  let spent = 0;
  let peak = 0;
  const queue: Waiter[] = [];
  let timer: Promise<void> | null = null;

  const free = (at: number) => {
    spentAt = spentAt.filter((t) => t > at - holdMs);
    return limit - spentAt.length;
  };

  const settle = (waiter: Waiter) => {
    queue.splice(queue.indexOf(waiter), 1);
    if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
  };

  /** Serves every waiter it can now; leaves a timer for the next returned call when some must wait. */
  const serve = () => {
    for (;;) {
      const at = now();
      const live = queue.find((w) => w.priority === "live");
      const next = live ?? queue[0];
      if (!next) return;
      const keep = next.priority === "live" ? 0 : reserve;
      if (free(at) <= keep) break;
      spentAt.push(at);
      spent++;
      peak = Math.max(peak, spentAt.filter((t) => t > at - windowMs).length);
      settle(next);
      next.resolve();
    }
    if (timer) return;
    const wake = (spentAt[0] ?? now()) + holdMs - now();
    timer = sleep(Math.max(1, wake)).then(
      () => {
        timer = null;
        serve();
      },
      () => {
        timer = null;
      },
    );
  };

  return {
    take(priority, signal) {
      if (signal?.aborted) return Promise.reject(stopReason(signal));
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { priority, resolve, reject, signal };
        if (signal) {
          waiter.onAbort = () => {
            settle(waiter);
            reject(stopReason(signal));
          };
          signal.addEventListener("abort", waiter.onAbort, { once: true });
        }
        queue.push(waiter);
        serve();
      });
    },
    callsPerMinute: limit,
    get spent() {
      return spent;
    },
    get peak() {
      return peak;
    },
    get waiting() {
      return queue.length;
    },
  };
}
