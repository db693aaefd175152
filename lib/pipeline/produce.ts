import { BellyError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { PriceSource, TickPublisher } from "../ports.ts";
import type { Outbox } from "./outbox.ts";

/** What one producer cycle did. */
export interface CycleReport {
  fetched: number;
  published: number;
  /** Ticks of earlier cycles that the bus had refused, sent again with this one. */
  resent: number;
  skipped: { pair: string; reason: string }[];
  latencyMs: number;
}

/**
 * One producer cycle: one source request for all pairs, then one publish of the valid ticks (with those an
 * outbox held from cycles whose publish failed).
 * Logs one JSON line with pairs fetched, published, skipped (and why) and latency; throws when the source or
 * the bus failed, so that `--once` can exit non-zero.
 * @example await runCycle({ source, publisher, log });
 */
export async function runCycle(deps: {
  source: PriceSource;
  publisher: TickPublisher;
  log: Logger;
  signal?: AbortSignal;
  /** Throw when no pair gave a valid price (for `--once`, where a silent empty cycle hides a typo). */
  requireTicks?: boolean;
  /** Keeps the ticks of a failed publish for the next cycle (the producer loop passes one). */
  outbox?: Outbox;
  now?: () => number;
}): Promise<CycleReport> {
  const now = deps.now ?? performance.now.bind(performance);
  const started = now();
  const { ticks, skipped } = await deps.source.fetch(deps.signal);
  const outgoing = deps.outbox ? deps.outbox.withHeld(ticks) : ticks;
  try {
    await deps.publisher.publish(outgoing);
    deps.outbox?.clear();
  } catch (error) {
    const dropped = deps.outbox?.hold(outgoing) ?? 0;
    if (deps.outbox)
      deps.log.warn("publish failed: ticks held for the next cycle", { held: deps.outbox.size, dropped });
    throw error;
  }
  const report: CycleReport = {
    fetched: ticks.length + skipped.length,
    published: outgoing.length,
    resent: outgoing.length - ticks.length,
    skipped: skipped.map((s) => ({ pair: `${s.asset}:${s.currency}`, reason: s.reason })),
    latencyMs: Math.round(now() - started),
  };
  deps.log.info("cycle", { ...report });
  if (deps.requireTicks && ticks.length === 0 && skipped.length > 0) {
    const reasons = report.skipped.map((s) => `${s.pair}: ${s.reason}`).join(", ");
    throw new BellyError(`no valid price to publish (${reasons})`, {
      hint: "check ASSETS (CoinGecko ids such as beldex) and VS_CURRENCIES",
    });
  }
  return report;
}
