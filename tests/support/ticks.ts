import type { BusMessage } from "../../lib/ports.ts";
import { encodeTick, type Tick, tickKey } from "../../lib/tick.ts";

/**
 * A valid tick for tests; `minute` sets sourceUpdatedAt to that many minutes after 2026-11-26T18:00Z.
 * @example makeTick({ asset: "bitcoin", price: 90_000 }, 3)
 */
export function makeTick(overrides: Partial<Tick> = {}, minute = 0): Tick {
  const at = new Date(Date.UTC(2026, 10, 26, 18, minute)).toISOString();
  return {
    v: 1,
    asset: "beldex",
    currency: "usd",
    price: 0.0712 + minute / 10_000,
    marketCap: 512_000_000,
    volume24h: 2_100_000,
    change24hPct: -1.3,
    sourceUpdatedAt: at,
    fetchedAt: at,
    source: "coingecko",
    ...overrides,
  };
}

/** Wraps ticks (or raw values) as bus messages at consecutive offsets of partition 0. */
export function asMessages(values: (Tick | string)[], topic = "belly-price"): BusMessage[] {
  return values.map((value, index) => ({
    topic,
    partition: 0,
    offset: String(index),
    key: typeof value === "string" ? null : tickKey(value),
    value: Buffer.from(typeof value === "string" ? value : encodeTick(value)),
    headers: {},
  }));
}
