import type { Logger } from "../log.ts";
import type { PriceSource, TickPublisher } from "../ports.ts";
import { runSchedule } from "../schedule.ts";
import { createOutbox } from "./outbox.ts";
import { runCycle } from "./produce.ts";

/**
 * The producer's life: one cycle with `once` (throws when it failed or published nothing), otherwise a cycle
 * on every FETCH_INTERVAL boundary until the signal aborts; a failed cycle is logged and the loop goes on.
 * @example await runProducerLoop({ source, publisher, log, signal, intervalMs: 600_000, once: false });
 */
export async function runProducerLoop(deps: {
  source: PriceSource;
  publisher: TickPublisher;
  log: Logger;
  signal: AbortSignal;
  intervalMs: number;
  once: boolean;
  /** Called after each successful cycle (the health server's heartbeat). */
  onSuccess?: () => void;
}): Promise<void> {
  const { source, publisher, log, signal } = deps;
  const outbox = createOutbox();
  const cycle = async () => {
    await runCycle({ source, publisher, log, signal, requireTicks: deps.once, outbox });
    deps.onSuccess?.();
  };
  if (deps.once) return cycle();
  log.info("producer started", { intervalS: deps.intervalMs / 1000 });
  await runSchedule({
    intervalMs: deps.intervalMs,
    cycle,
    signal,
    onError: (error) =>
      log.error("cycle failed", { error: error instanceof Error ? error.message : String(error) }),
    onSkipped: (missed) => log.warn("cycle overran, skipped boundaries", { missed }),
  });
}
