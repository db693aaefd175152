// The sanity guard (GUARD_FACTOR): one bad print never becomes the latest price, a real move still does.
import { describe, expect, test } from "bun:test";
import { silentLogger } from "../lib/log.ts";
import { jumpOf } from "../lib/pipeline/price-guard.ts";
import { createTickGate, GUARD_DLQ_TOPIC } from "../lib/pipeline/tick-gate.ts";
import type { BusMessage, DeadLetters } from "../lib/ports.ts";
import { decodeTick, type Tick } from "../lib/tick.ts";
import { makeTick } from "./support/ticks.ts";

function at(seconds: number, price: number): Tick {
  const time = new Date(Date.UTC(2026, 10, 26, 18, 0, seconds)).toISOString();
  return makeTick({ price, sourceUpdatedAt: time, fetchedAt: time, source: "coingecko-stream" });
}

/** Dead letters in memory; `failing` makes the next sends throw. */
function memoryDeadLetters() {
  const sent: { message: BusMessage; reason: string }[] = [];
  let failing = 0;
  const port: DeadLetters = {
    async send(items) {
      if (failing > 0) {
        failing--;
        throw new Error("broker away");
      }
      sent.push(...items);
    },
  };
  const failNext = (times: number) => {
    failing = times;
  };
  return { port, sent, failNext };
}

const prices = (ticks: Tick[]) => ticks.map((t) => t.price);

describe("price guard", () => {
  test("holds a single spike and dead-letters it with its reason when the next reading does not confirm it", async () => {
    const dlq = memoryDeadLetters();
    const gate = createTickGate({
      rule: null,
      guard: { factor: 2 },
      deadLetters: dlq.port,
      log: silentLogger,
    });
    expect(prices(await gate.admit([at(0, 100)]))).toEqual([100]);
    expect(prices(await gate.admit([at(10, 350)]))).toEqual([]); // 3.5 x: held
    expect(dlq.sent).toHaveLength(0);
    expect(prices(await gate.admit([at(20, 101)]))).toEqual([101]); // back to normal: the spike was a bad print
    expect(dlq.sent).toHaveLength(1);
    const [letter] = dlq.sent;
    expect(letter?.reason).toContain("price guard: 350");
    expect(letter?.reason).toContain("did not confirm it");
    expect(letter?.message).toMatchObject({ topic: GUARD_DLQ_TOPIC, key: "beldex:usd" });
    expect(decodeTick(letter?.message.value ?? null)).toEqual(at(10, 350));
    expect(gate.counts).toMatchObject({ admitted: 2, held: 1, rejected: 1 });
  });

  test("lets a confirmed move through, the held reading first with its own timestamp", async () => {
    const dlq = memoryDeadLetters();
    const gate = createTickGate({
      rule: null,
      guard: { factor: 2 },
      deadLetters: dlq.port,
      log: silentLogger,
    });
    await gate.admit([at(0, 100)]);
    expect(await gate.admit([at(10, 40)])).toEqual([]); // 0.4 x: held
    const out = await gate.admit([at(20, 41)]); // confirms the fall
    expect(out).toEqual([at(10, 40), at(20, 41)]);
    expect(dlq.sent).toHaveLength(0);
    // From now on the guard compares with the confirmed price.
    expect(prices(await gate.admit([at(30, 42)]))).toEqual([42]);
  });

  test("a jump the other way refutes the held one and is held in turn", async () => {
    const dlq = memoryDeadLetters();
    const gate = createTickGate({
      rule: null,
      guard: { factor: 2 },
      deadLetters: dlq.port,
      log: silentLogger,
    });
    await gate.admit([at(0, 100)]);
    await gate.admit([at(10, 300)]);
    expect(await gate.admit([at(20, 30)])).toEqual([]);
    expect(dlq.sent.map((l) => decodeTick(l.message.value).price)).toEqual([300]);
    expect(prices(await gate.admit([at(30, 29)]))).toEqual([30, 29]);
  });

  test("with the publishing rule: a confirmed move is published even under a heartbeat-only rule", async () => {
    const gate = createTickGate({
      rule: { deviationPct: null, heartbeatMs: 3_600_000 },
      guard: { factor: 1.5 },
      deadLetters: memoryDeadLetters().port,
      log: silentLogger,
    });
    await gate.admit([at(0, 100)]);
    expect(await gate.admit([at(10, 200)])).toEqual([]);
    expect(prices(await gate.admit([at(20, 201)]))).toEqual([200]); // 201 is unchanged against 200
  });

  test("a failed dead-letter send is retried with the next batch; a stop dead-letters what is still held", async () => {
    const dlq = memoryDeadLetters();
    const gate = createTickGate({
      rule: null,
      guard: { factor: 2 },
      deadLetters: dlq.port,
      log: silentLogger,
    });
    await gate.admit([at(0, 100), at(10, 500)]);
    dlq.failNext(1);
    expect(prices(await gate.admit([at(20, 100)]))).toEqual([100]);
    expect(dlq.sent).toHaveLength(0);
    await gate.admit([at(30, 900)]);
    expect(dlq.sent).toHaveLength(1); // the first refusal, sent with this batch
    await gate.close();
    expect(dlq.sent.map((l) => decodeTick(l.message.value).price)).toEqual([500, 900]);
    expect(dlq.sent[1]?.reason).toContain("before the producer stopped");
  });

  test("jumps are beyond the factor either way, not at it", () => {
    expect(jumpOf(200, 100, { factor: 2 })).toBeNull();
    expect(jumpOf(200.01, 100, { factor: 2 })).toBe("up");
    expect(jumpOf(50, 100, { factor: 2 })).toBeNull();
    expect(jumpOf(49.99, 100, { factor: 2 })).toBe("down");
  });
});
