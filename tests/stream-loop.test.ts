// The producer's stream loop with in-memory fakes: stream updates published as they come, REST polls while the
// stream is down or a pair is silent, and nothing lost or doubled while the bus refuses.
import { afterEach, describe, expect, test } from "bun:test";
import { silentLogger } from "../lib/log.ts";
import { createProducerMetrics, producerMetricsText } from "../lib/pipeline/producer-metrics.ts";
import { runStreamLoop } from "../lib/pipeline/stream-loop.ts";
import { createTickGate } from "../lib/pipeline/tick-gate.ts";
import type { FetchResult, PriceSource, PriceStream, PriceStreamSink, TickPublisher } from "../lib/ports.ts";
import { type Tick, tickIdentity } from "../lib/tick.ts";
import { waitFor } from "./support/processes.ts";
import { parsePrometheus } from "./support/prometheus.ts";
import { makeTick } from "./support/ticks.ts";

const INTERVAL_MS = 300;

/** A stream port the test drives. */
function fakeStream() {
  let sink: PriceStreamSink | undefined;
  const port: PriceStream = {
    run(s, signal) {
      sink = s;
      return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    },
  };
  return {
    port,
    live: (up: boolean) => sink?.live(up, up ? undefined : "test drop"),
    push: (...ticks: Tick[]) => sink?.readings({ ticks, skipped: [] }),
  };
}

/** A REST source answering `answer()` and counting its fetches. */
function fakeSource(answer: () => FetchResult) {
  const calls: number[] = [];
  const port: PriceSource = {
    async fetch() {
      calls.push(Date.now());
      return answer();
    },
  };
  return { port, calls };
}

/** A publisher keeping what it acknowledged; `refuse` makes publishes fail. */
function memoryPublisher() {
  const acked: Tick[] = [];
  const state = { refuse: false };
  const port: TickPublisher = {
    async publish(ticks) {
      if (state.refuse) throw new Error("broker away");
      acked.push(...ticks);
    },
    async close() {},
  };
  return { port, acked, state };
}

let controller: AbortController | undefined;
afterEach(() => controller?.abort());

let second = 0;
const streamed = (asset: string, price: number) => {
  second++;
  const at = new Date(Date.UTC(2026, 10, 26, 18, 0, second)).toISOString();
  return makeTick({ asset, price, sourceUpdatedAt: at, fetchedAt: at, source: "coingecko-stream" });
};

function start(
  stream: PriceStream,
  source: PriceSource,
  publisher: TickPublisher,
  metrics = createProducerMetrics(),
) {
  controller = new AbortController();
  const gate = createTickGate({ rule: null, guard: null, log: silentLogger });
  const configured = { assets: ["bitcoin", "ethereum"], currencies: ["usd"] };
  const signal = controller.signal;
  const done = runStreamLoop({
    metrics,
    stream,
    source,
    publisher,
    gate,
    log: silentLogger,
    signal,
    intervalMs: INTERVAL_MS,
    configured,
  });
  return { done, stop: () => controller?.abort() };
}

describe("stream loop", () => {
  test("polls at start, publishes streamed updates as they come, polls again only while the stream is down", async () => {
    const stream = fakeStream();
    let polled = 0;
    const source = fakeSource(() => {
      polled++;
      const rest = { source: "coingecko" };
      return {
        ticks: [
          { ...streamed("bitcoin", polled), ...rest },
          { ...streamed("ethereum", polled), ...rest },
        ],
        skipped: [],
      };
    });
    const publisher = memoryPublisher();
    const run = start(stream.port, source.port, publisher.port);
    await waitFor("the poll at start", () => publisher.acked.length >= 2, 2_000);
    stream.live(true);
    const both = (price: number) => stream.push(streamed("bitcoin", price), streamed("ethereum", price));
    both(100);
    await Bun.sleep(INTERVAL_MS + 50);
    // Live and every pair streamed in each interval: no poll for two intervals.
    const before = source.calls.length;
    for (let i = 1; i <= 6; i++) {
      both(100 + i);
      await Bun.sleep(INTERVAL_MS / 3);
    }
    expect(source.calls.length).toBe(before);
    expect(publisher.acked.filter((t) => t.source === "coingecko-stream")).toHaveLength(14);
    stream.live(false);
    await waitFor("a poll after the drop", () => source.calls.length > before, INTERVAL_MS * 2 + 200);
    run.stop();
    await run.done;
    const ids = publisher.acked.map(tickIdentity);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("a pair the stream leaves silent is polled on the boundary, even while the stream is live", async () => {
    const stream = fakeStream();
    const source = fakeSource(() => ({ ticks: [streamed("ethereum", 3_000)], skipped: [] }));
    const publisher = memoryPublisher();
    const run = start(stream.port, source.port, publisher.port);
    stream.live(true);
    await waitFor("the poll at start", () => source.calls.length === 1, 2_000);
    const timer = setInterval(() => stream.push(streamed("bitcoin", 91_000)), INTERVAL_MS / 4);
    await waitFor("a poll for the silent pair", () => source.calls.length >= 2, INTERVAL_MS * 2 + 200);
    clearInterval(timer);
    run.stop();
    await run.done;
  });

  test("while the bus refuses, streamed ticks wait in the outbox and go once it answers, each once, in order", async () => {
    const stream = fakeStream();
    const source = fakeSource(() => ({ ticks: [], skipped: [] }));
    const publisher = memoryPublisher();
    const run = start(stream.port, source.port, publisher.port);
    stream.live(true);
    publisher.state.refuse = true;
    const sent = [streamed("bitcoin", 1), streamed("ethereum", 2), streamed("bitcoin", 3)];
    for (const tick of sent) stream.push(tick);
    await Bun.sleep(200);
    expect(publisher.acked).toHaveLength(0);
    publisher.state.refuse = false;
    stream.push(streamed("ethereum", 4));
    await waitFor("all four", () => publisher.acked.length === 4, 5_000);
    expect(publisher.acked.map((t) => t.price)).toEqual([1, 2, 3, 4]);
    run.stop();
    await run.done;
  });

  test("/metrics shows the stream's state, its drops and polls, and the gate's counts", async () => {
    const stream = fakeStream();
    const source = fakeSource(() => ({ ticks: [streamed("bitcoin", 5)], skipped: [] }));
    const metrics = createProducerMetrics();
    const run = start(stream.port, source.port, memoryPublisher().port, metrics);
    await waitFor("the poll at start", () => source.calls.length === 1, 2_000);
    stream.live(true);
    stream.live(false);
    stream.live(true);
    stream.push(streamed("bitcoin", 6), streamed("ethereum", 7));
    await waitFor("published", () => (metrics.gate?.admitted ?? 0) === 3, 2_000);
    const families = parsePrometheus(producerMetricsText(metrics, Date.now()));
    const value = (name: string) => families.get(name)?.samples.map((s) => s.value);
    expect(value("belly_producer_stream_live")).toEqual([1]);
    expect(value("belly_producer_stream_drops_total")).toEqual([1]);
    expect(value("belly_producer_stream_polls_total")).toEqual([1]);
    expect(families.get("belly_producer_gate_readings_total")?.samples).toContainEqual({
      labels: { outcome: "admitted" },
      value: 3,
    });
    run.stop();
    await run.done;
  });
});
