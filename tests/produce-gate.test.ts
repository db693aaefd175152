// The polling path with the gate: poll often, publish on change; one cycle per poll, as before.
import { describe, expect, test } from "bun:test";
import { silentLogger } from "../lib/log.ts";
import { runCycle } from "../lib/pipeline/produce.ts";
import { createTickGate } from "../lib/pipeline/tick-gate.ts";
import type { PriceSource, TickPublisher } from "../lib/ports.ts";
import type { Tick } from "../lib/tick.ts";
import { makeTick } from "./support/ticks.ts";

describe("polling cycles through the gate", () => {
  test("publish on change: a repeated value, a small move and a spike are kept back; the heartbeat goes", async () => {
    const answers = [
      [makeTick({ price: 1 }, 0)],
      [makeTick({ price: 1 }, 0)], // the same CoinGecko value polled again
      [makeTick({ price: 1.001 }, 1)], // +0.1 %
      [makeTick({ price: 5 }, 2)], // 5 x: held
      [makeTick({ price: 1.002 }, 3)], // refutes it
      [makeTick({ price: 1.002 }, 10)], // 10 minutes after the last published: heartbeat
    ];
    const source: PriceSource = { fetch: async () => ({ ticks: answers.shift() ?? [], skipped: [] }) };
    const published: Tick[] = [];
    const dead: string[] = [];
    const publisher: TickPublisher = {
      publish: async (ticks) => void published.push(...ticks),
      close: async () => {},
    };
    const gate = createTickGate({
      rule: { deviationPct: 1, heartbeatMs: 600_000 },
      guard: { factor: 2 },
      deadLetters: { send: async (items) => void dead.push(...items.map((i) => i.reason)) },
      log: silentLogger,
    });
    const reports = [];
    for (let i = 0; i < 6; i++) reports.push(await runCycle({ source, publisher, log: silentLogger, gate }));
    expect(reports.map((r) => [r.fetched, r.published])).toEqual([
      [1, 1],
      [1, 0],
      [1, 0],
      [1, 0],
      [1, 0],
      [1, 1],
    ]);
    expect(published.map((t) => t.price)).toEqual([1, 1.002]);
    expect(dead).toHaveLength(1);
  });
});
