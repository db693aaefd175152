import { describe, expect, test } from "bun:test";
import { BusError } from "../lib/errors.ts";
import { createLogger, silentLogger } from "../lib/log.ts";
import { createOutbox } from "../lib/pipeline/outbox.ts";
import { runCycle } from "../lib/pipeline/produce.ts";
import type { FetchResult, PriceSource, TickPublisher } from "../lib/ports.ts";
import type { Tick } from "../lib/tick.ts";
import { makeTick } from "./support/ticks.ts";

/** A source that answers the queued results in turn. */
function queuedSource(results: FetchResult[]): PriceSource {
  return { fetch: async () => results.shift() ?? { ticks: [], skipped: [] } };
}

/** A publisher whose first `failures` publishes fail like an unreachable broker. */
function flakyPublisher(failures: number): TickPublisher & { sent: Tick[][] } {
  const sent: Tick[][] = [];
  let left = failures;
  return {
    sent,
    async publish(ticks) {
      if (left-- > 0) throw new BusError("cannot reach Kafka");
      sent.push(ticks);
    },
    async close() {},
  };
}

describe("producer cycle", () => {
  test("publishes every valid tick and logs one line with fetched, published, skipped and latency", async () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (line) => lines.push(line) });
    const publisher = flakyPublisher(0);
    const source = queuedSource([
      { ticks: [makeTick({}, 1)], skipped: [{ asset: "nope", currency: "usd", reason: "unknown id" }] },
    ]);
    const report = await runCycle({ source, publisher, log });
    expect(report).toMatchObject({ fetched: 2, published: 1, resent: 0 });
    expect(publisher.sent).toEqual([[makeTick({}, 1)]]);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      msg: "cycle",
      skipped: [{ pair: "nope:usd", reason: "unknown id" }],
    });
  });

  test("holds the ticks of a failed publish and sends them, oldest first and once, with the next cycle", async () => {
    const outbox = createOutbox();
    const publisher = flakyPublisher(2);
    const source = queuedSource([
      { ticks: [makeTick({}, 1), makeTick({ currency: "eur" }, 1)], skipped: [] },
      { ticks: [makeTick({}, 2), makeTick({ currency: "eur" }, 1)], skipped: [] }, // eur unchanged: same identity
      { ticks: [makeTick({}, 3)], skipped: [] },
    ]);
    const cycle = () => runCycle({ source, publisher, log: silentLogger, outbox });
    await expect(cycle()).rejects.toBeInstanceOf(BusError);
    await expect(cycle()).rejects.toBeInstanceOf(BusError);
    expect(outbox.size).toBe(3);
    const report = await cycle();
    expect(report).toMatchObject({ published: 4, resent: 3 });
    expect(publisher.sent[0]?.map((t) => `${t.currency}@${t.sourceUpdatedAt.slice(11, 16)}`)).toEqual([
      "usd@18:01",
      "eur@18:01",
      "usd@18:02",
      "usd@18:03",
    ]);
    expect(outbox.size).toBe(0);
  });

  test("an outbox past its limit drops the oldest ticks and says how many", () => {
    const outbox = createOutbox(2);
    expect(outbox.hold([makeTick({}, 1), makeTick({}, 2), makeTick({}, 3)])).toBe(1);
    expect(outbox.withHeld([]).map((t) => t.sourceUpdatedAt.slice(11, 16))).toEqual(["18:02", "18:03"]);
  });

  test("--once fails with a hint naming ASSETS when no pair gave a price", async () => {
    const source = queuedSource([
      { ticks: [], skipped: [{ asset: "notacoin", currency: "usd", reason: "unknown id" }] },
    ]);
    const error = await runCycle({
      source,
      publisher: flakyPublisher(0),
      log: silentLogger,
      requireTicks: true,
    }).catch((e) => e);
    expect(error.message).toContain("notacoin:usd: unknown id");
    expect(error.hint).toContain("ASSETS");
  });
});
