// Issue 13 through the real producer.ts and Kafka: the publishing rule and the price guard on a streamed path,
// the refused spike in the DLQ with its reason.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Kafka } from "kafkajs";
import type { Tick } from "../lib/tick.ts";
import { type FakeCoinGecko, startFakeCoinGecko } from "./support/fake-coingecko.ts";
import { type FakeCoinGeckoStream, startFakeCoinGeckoStream } from "./support/fake-coingecko-stream.ts";
import { readTopic, testKafka } from "./support/kafka.ts";
import { type EntryProcess, startEntry, waitFor } from "./support/processes.ts";
import { createTestTopic, deleteTopics, useStack } from "./support/stack.ts";

const KEY = "CG-pro-guard-test-key-5512";

let rest: FakeCoinGecko;
let stream: FakeCoinGeckoStream;
let kafka: Kafka;
let topic: string;
let producer: EntryProcess | undefined;

beforeAll(async () => {
  const stack = await useStack();
  kafka = testKafka(stack.kafka.plaintext);
  rest = await startFakeCoinGecko({
    requireKey: { plan: "pro", key: KEY },
    book: { bitcoin: { usd: { price: 91_000, updatedAt: Math.floor(Date.now() / 1000) - 30 } } },
  });
  stream = await startFakeCoinGeckoStream({ requireKey: KEY, faults: { nullFields: true } });
  topic = await createTestTopic("guard", 3);
  producer = startEntry("producer.ts", {
    KAFKA_BROKERS: stack.kafka.plaintext,
    KAFKA_TOPIC: topic,
    COINGECKO_PLAN: "pro",
    COINGECKO_API_KEY: KEY,
    COINGECKO_BASE_URL: rest.url,
    COINGECKO_STREAM: "true",
    COINGECKO_STREAM_URL: stream.url,
    ASSETS: "bitcoin",
    VS_CURRENCIES: "usd",
    FETCH_INTERVAL: "60",
    DEVIATION_PCT: "1",
    HEARTBEAT: "60",
    GUARD_FACTOR: "2",
  });
}, 60_000);

afterAll(async () => {
  if (producer && producer.proc.exitCode === null) producer.proc.kill("SIGTERM");
  await producer?.exited;
  await deleteTopics([topic, `${topic}.dlq`]);
  await stream?.stop();
  await rest?.stop();
});

describe("producer with DEVIATION_PCT=1, HEARTBEAT=60 and GUARD_FACTOR=2 on the stream", () => {
  test("publishes exactly the moves, holds the spike, dead-letters it, and lets the confirmed fall through", async () => {
    await waitFor("the stream subscribed", () => stream.subscribers().length === 1, 20_000);
    await waitFor(
      "the poll at start",
      () => rest.requests.some((r) => r.path.endsWith("/simple/price")),
      10_000,
    );
    await Bun.sleep(500);
    const t0 = Math.floor(Date.now() / 1000) - 20;
    // [seconds after t0, price]: against the last published 91,000 (the REST poll at start).
    const path: [number, number][] = [
      [1, 91_500], // +0.55 %: kept back
      [2, 92_500], // +1.65 %: published
      [3, 300_000], // 3.2 x: held
      [4, 92_600], // refutes the spike (dead-lettered); +0.1 %: kept back
      [5, 30_000], // 0.32 x: held
      [6, 29_000], // confirms the fall: 30,000 published with its own time, then 29,000 (-3.3 %)
      [7, 29_100], // +0.3 %: kept back
    ];
    for (const [s, price] of path) stream.emit({ coin: "bitcoin", vs: "usd", price, t: t0 + s + 0.125 });
    const published = await readTopic(kafka, topic, 4, 15_000);
    const ticks = published.map((m) => JSON.parse(m.value) as Tick);
    expect(ticks.map((t) => [t.price, t.source])).toEqual([
      [91_000, "coingecko"],
      [92_500, "coingecko-stream"],
      [30_000, "coingecko-stream"],
      [29_000, "coingecko-stream"],
    ]);
    expect(ticks[2]?.sourceUpdatedAt).toBe(new Date((t0 + 5.125) * 1000).toISOString());
    expect(ticks[1]).toMatchObject({ marketCap: null, volume24h: null, change24hPct: null });
    const dead = await readTopic(kafka, `${topic}.dlq`, 1, 10_000);
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0]?.value ?? "{}")).toMatchObject({ price: 300_000, source: "coingecko-stream" });
    expect(dead[0]?.headers["dlq-reason"]).toContain("did not confirm it");
    expect(dead[0]?.key).toBe("bitcoin:usd");

    // Nothing more arrives later: what was kept back stays back, nothing is published twice.
    producer?.proc.kill("SIGTERM");
    expect(await producer?.exited).toBe(0);
    expect(await readTopic(kafka, topic, 5, 2_000)).toHaveLength(4);
    expect(producer?.lines.join("\n")).not.toContain(KEY);
  }, 60_000);
});
