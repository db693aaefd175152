import { describe, expect, test } from "bun:test";
import { createPartitionLanes } from "../lib/adapters/kafka/partition-lanes.ts";

/** A write that finishes when `finish` is called, recording when it starts and ends. */
function gate(log: string[], name: string) {
  let finish: (error?: Error) => void = () => {};
  const write = () =>
    new Promise<void>((resolve, reject) => {
      log.push(`start ${name}`);
      finish = (error) => {
        log.push(`end ${name}`);
        if (error) reject(error);
        else resolve();
      };
    });
  return { write, finish: (error?: Error) => finish(error) };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("partition lanes", () => {
  test("writes a partition's batches one after another, in the order they came", async () => {
    const log: string[] = [];
    const lanes = createPartitionLanes(3);
    const a = gate(log, "a");
    const b = gate(log, "b");
    await lanes.push(0, a.write, "0");
    await lanes.push(0, b.write, "10");
    await tick();
    expect(log).toEqual(["start a"]);
    a.finish();
    await tick();
    expect(log).toEqual(["start a", "end a", "start b"]);
    b.finish();
    await lanes.settled();
    expect(lanes.size()).toBe(0);
  });

  test("writes different partitions side by side", async () => {
    const log: string[] = [];
    const lanes = createPartitionLanes(2);
    const a = gate(log, "p0");
    const b = gate(log, "p1");
    await lanes.push(0, a.write, "0");
    await lanes.push(1, b.write, "0");
    await tick();
    expect(log).toEqual(["start p0", "start p1"]);
    a.finish();
    b.finish();
    await lanes.settled();
  });

  test("holds the caller while a partition already has `depth` batches queued", async () => {
    const log: string[] = [];
    const lanes = createPartitionLanes(2);
    const a = gate(log, "a");
    const b = gate(log, "b");
    await lanes.push(0, a.write, "0");
    let returned = false;
    const second = lanes.push(0, b.write, "10").then(() => {
      returned = true;
    });
    await tick();
    expect(returned).toBe(false);
    a.finish();
    await second;
    expect(returned).toBe(true);
    b.finish();
    await lanes.settled();
  });

  test("skips the batches behind a failed one, reports it once, and throws it at the next push", async () => {
    const log: string[] = [];
    const failures: string[] = [];
    const lanes = createPartitionLanes(3, (partition, offset, error) =>
      failures.push(`${partition}@${offset}: ${(error as Error).message}`),
    );
    const a = gate(log, "a");
    const b = gate(log, "b");
    await lanes.push(4, a.write, "100");
    await lanes.push(4, b.write, "200");
    a.finish(new Error("heartbeat lost"));
    await lanes.settled();
    expect(log).toEqual(["start a", "end a"]);
    expect(failures).toEqual(["4@100: heartbeat lost"]);
    expect((lanes.failure() as Error).message).toBe("heartbeat lost");
    await expect(lanes.push(5, async () => {}, "0")).rejects.toThrow("heartbeat lost");
  });

  test("settles only once every queued write has ended", async () => {
    const log: string[] = [];
    const lanes = createPartitionLanes(2);
    const a = gate(log, "a");
    await lanes.push(0, a.write, "0");
    let settled = false;
    const done = lanes.settled().then(() => {
      settled = true;
    });
    await tick();
    expect(settled).toBe(false);
    a.finish();
    await done;
    expect(settled).toBe(true);
  });
});
