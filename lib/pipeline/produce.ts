import { BellyError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { PriceSource, TickPublisher } from "../ports.ts";

/** What one producer cycle did. */
export interface CycleReport {
  fetched: number;
  published: number;
  skipped: { pair: string; reason: string }[];
  latencyMs: number;
}

/**
 * One producer cycle: one source request for all pairs, then one publish of the valid ticks.
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
  now?: () => number;
}): Promise<CycleReport> {
  const now = deps.now ?? performance.now.bind(performance);
  const started = now();
  const { ticks, skipped } = await deps.source.fetch(deps.signal);
  await deps.publisher.publish(ticks);
  const report: CycleReport = {
    fetched: ticks.length + skipped.length,
    published: ticks.length,
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
