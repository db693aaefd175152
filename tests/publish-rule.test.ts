// The publishing rule (DEVIATION_PCT, HEARTBEAT) on scripted price paths, through the gate the producer uses.
import { describe, expect, test } from "bun:test";
import { silentLogger } from "../lib/log.ts";
import { publishDecision } from "../lib/pipeline/publish-rule.ts";
import { createTickGate } from "../lib/pipeline/tick-gate.ts";
import type { Tick } from "../lib/tick.ts";
import { makeTick } from "./support/ticks.ts";

/** One reading of beldex:usd `seconds` after 18:00 at `price`. */
function at(seconds: number, price: number, overrides: Partial<Tick> = {}): Tick {
  const time = new Date(Date.UTC(2026, 10, 26, 18, 0, seconds)).toISOString();
  return makeTick({ price, sourceUpdatedAt: time, fetchedAt: time, ...overrides });
}

describe("publishing rule", () => {
  test("is exact on a scripted price path: 1% deviation or 60 s heartbeat, from the last published tick", async () => {
    const gate = createTickGate({
      rule: { deviationPct: 1, heartbeatMs: 60_000 },
      guard: null,
      log: silentLogger,
    });
    // [seconds, price, published?] — each decision is taken against the last *published* price and time.
    const path: [number, number, boolean][] = [
      [0, 100, true], // first reading of the pair
      [10, 100.5, false], // +0.5 %
      [20, 100.99, false], // +0.99 %: below 1 %
      [30, 101, true], // +1 % exactly
      [40, 100.2, false], // -0.79 % from 101
      [50, 99.99, true], // -1 % from 101 (within float rounding)
      [60, 100.5, false], // +0.51 % from 99.99
      [109, 100.6, false], // 59 s after 50
      [110, 100.6, true], // 60 s after 50: heartbeat
      [115, 100.6, false], // unchanged, 5 s later
      [170, 100.61, true], // heartbeat again, 60 s after 110
      [171, 0.5 * 100.61, true], // -50 %: published at once (no guard configured)
    ];
    const published: number[] = [];
    for (const [seconds, price] of path)
      for (const tick of await gate.admit([at(seconds, price)]))
        published.push(Date.parse(tick.sourceUpdatedAt));
    const expected = path.filter(([, , yes]) => yes).map(([s]) => Date.UTC(2026, 10, 26, 18, 0, s));
    expect(published).toEqual(expected);
    expect(gate.counts).toMatchObject({ admitted: 6, unchanged: 6, stale: 0 });
  });

  test("deviation alone, heartbeat alone", () => {
    const last = at(0, 100);
    expect(publishDecision(at(5, 102), last, { deviationPct: 2, heartbeatMs: null })).toBe("deviation");
    expect(publishDecision(at(3_600, 101), last, { deviationPct: 2, heartbeatMs: null })).toBe("unchanged");
    expect(publishDecision(at(30, 150), last, { deviationPct: null, heartbeatMs: 60_000 })).toBe("unchanged");
    expect(publishDecision(at(60, 100), last, { deviationPct: null, heartbeatMs: 60_000 })).toBe("heartbeat");
    expect(publishDecision(at(60, 100), undefined, { deviationPct: 5, heartbeatMs: null })).toBe("first");
  });

  test("a batch is judged per pair in source order, whatever order it came in", async () => {
    const gate = createTickGate({
      rule: { deviationPct: 1, heartbeatMs: 60_000 },
      guard: null,
      log: silentLogger,
    });
    const eur = (s: number, price: number) => at(s, price, { currency: "eur" });
    const out = await gate.admit([at(20, 102), eur(10, 90), at(0, 100), at(10, 100.1), eur(0, 90)]);
    expect(out.map((t) => `${t.currency}@${t.sourceUpdatedAt.slice(17, 19)}:${t.price}`)).toEqual([
      "usd@00:100",
      "eur@00:90",
      "usd@20:102",
    ]);
  });

  test("off: every newer reading passes, a repeated or older one never does", async () => {
    const gate = createTickGate({ rule: null, guard: null, log: silentLogger });
    expect(await gate.admit([at(0, 100), at(10, 100)])).toHaveLength(2);
    // The same identity polled again over REST, and a REST answer older than what the stream gave.
    expect(await gate.admit([at(10, 100), at(5, 99, { source: "coingecko" })])).toEqual([]);
    expect(gate.counts).toMatchObject({ admitted: 2, stale: 2 });
  });
});
