import { describe, expect, test } from "bun:test";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { createConsumerMetrics, markDown } from "../lib/pipeline/metrics.ts";
import { createStatusApp, createTickFeed, type StatusDeps } from "../lib/status/app.ts";
import type { HealthView, TickEvent } from "../lib/status/view.ts";
import { makeTick } from "./support/ticks.ts";

interface SseEvent {
  event: string;
  data: string;
  retry?: string;
}

/** Reads server-sent events one at a time from a response body. */
function eventReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    async next(): Promise<SseEvent> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: "message", data: "" };
          const data: string[] = [];
          for (const line of frame.split("\n")) {
            const colon = line.indexOf(":");
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, "");
            if (field === "event") event.event = value;
            else if (field === "data") data.push(value);
            else if (field === "retry") event.retry = value;
          }
          event.data = data.join("\n");
          return event;
        }
        const { done, value } = await reader.read();
        if (done) throw new Error("stream ended");
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

const NOW = Date.UTC(2026, 10, 26, 18, 30);

async function setup(overrides: Partial<StatusDeps> = {}) {
  const feed = createTickFeed();
  const cache = createMemoryCache();
  await cache.putIfNewer([makeTick({}, 29)]);
  const app = createStatusApp({
    cache,
    history: createMemoryHistory(),
    health: () => ({
      metrics: { ...createConsumerMetrics(), consumed: 42 },
      lag: 3,
      startedAt: NOW - 60_000,
    }),
    fetchIntervalMs: 60_000,
    now: () => NOW,
    subscribe: feed.subscribe,
    ...overrides,
  });
  return { app, feed };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe("GET /api/stream", () => {
  test("opens with a hello carrying the health and the retry delay", async () => {
    const { app } = await setup();
    const res = await app.request("/api/stream");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const events = eventReader(res.body as ReadableStream<Uint8Array>);
    const hello = await events.next();
    expect(hello.event).toBe("hello");
    expect(hello.retry).toBe("3000");
    const health = JSON.parse(hello.data) as HealthView;
    expect(health).toMatchObject({ state: "fresh", ageMs: 60_000, consumed: "42", lag: "3" });
    await events.cancel();
  });

  test("delivers a published tick, formatted for the page", async () => {
    const { app, feed } = await setup();
    const res = await app.request("/api/stream");
    const events = eventReader(res.body as ReadableStream<Uint8Array>);
    await events.next();
    feed.publish([
      makeTick({ price: 0.0823456, change24hPct: 2.5, source: "<img src=x onerror=alert(1)>" }, 30),
    ]);
    const tick = await events.next();
    expect(tick.event).toBe("tick");
    const { card, health } = JSON.parse(tick.data) as TickEvent;
    expect(card).toMatchObject({
      pair: "beldex:usd",
      name: "Beldex",
      p: 0.0823456,
      price: "$0.08234",
      change: { text: "+2.50%", direction: "up", label: "up 2.50%" },
      marketCap: "$512M",
      time: "18:30:00",
      // Sent as data; the page's script only ever assigns it to textContent.
      source: "<img src=x onerror=alert(1)>",
    });
    // The new tick is the newest: its age is now - its time.
    expect(health.ageMs).toBe(0);
    await events.cancel();
  });

  test("unsubscribes from the feed when the client goes away", async () => {
    const { app, feed } = await setup();
    const res = await app.request("/api/stream");
    const events = eventReader(res.body as ReadableStream<Uint8Array>);
    await events.next();
    expect(feed.size).toBe(1);
    await events.cancel();
    await settle();
    expect(feed.size).toBe(0);
  });

  test("sends a health heartbeat", async () => {
    const { app } = await setup({ heartbeatMs: 20 });
    const res = await app.request("/api/stream");
    const events = eventReader(res.body as ReadableStream<Uint8Array>);
    await events.next();
    const beat = await events.next();
    expect(beat.event).toBe("health");
    expect(JSON.parse(beat.data).consumed).toBe("42");
    await events.cancel();
  });

  test("answers 503 JSON when live updates are not wired", async () => {
    const { app } = await setup({ subscribe: undefined });
    const res = await app.request("/api/stream");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "live updates not enabled" });
  });

  test("answers 503 beyond the most streams allowed", async () => {
    const { app, feed } = await setup({ maxStreams: 1 });
    const first = eventReader((await app.request("/api/stream")).body as ReadableStream<Uint8Array>);
    await first.next();
    const second = await app.request("/api/stream");
    expect(second.status).toBe(503);
    expect(await second.json()).toEqual({ error: "too many live streams" });
    await first.cancel();
    await settle();
    expect(feed.size).toBe(0);
    const third = await app.request("/api/stream");
    expect(third.status).toBe(200);
    await third.body?.cancel();
  });
  test("a HEAD request does not open a stream", async () => {
    const { app, feed } = await setup({ maxStreams: 1 });
    for (let i = 0; i < 3; i++) {
      const res = await app.request("/api/stream", { method: "HEAD" });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/event-stream");
    }
    await settle();
    expect(feed.size).toBe(0);
    const get = await app.request("/api/stream");
    expect(get.status).toBe(200);
    await get.body?.cancel();
  });
});

describe("createTickFeed", () => {
  test("calls every listener with every tick, in order, until it unsubscribes", () => {
    const feed = createTickFeed();
    const seen: string[] = [];
    const stop = feed.subscribe((tick) => seen.push(`a${tick.sourceUpdatedAt.slice(14, 16)}`));
    feed.subscribe((tick) => seen.push(`b${tick.sourceUpdatedAt.slice(14, 16)}`));
    feed.publish([makeTick({}, 1), makeTick({}, 2)]);
    stop();
    stop();
    feed.publish([makeTick({}, 3)]);
    expect(seen).toEqual(["a01", "a02", "b01", "b02", "b03"]);
    expect(feed.size).toBe(1);
  });

  test("a throwing listener does not stop the others or the publisher", () => {
    const feed = createTickFeed();
    const seen: number[] = [];
    feed.subscribe(() => {
      throw new Error("broken stream");
    });
    feed.subscribe((tick) => seen.push(tick.price));
    expect(() => feed.publish([makeTick({ price: 1 })])).not.toThrow();
    expect(seen).toEqual([1]);
  });

  test("the health of each event names a down dependency, its fix and its error, for the page's badge", async () => {
    const metrics = createConsumerMetrics();
    markDown(
      metrics,
      "cache",
      { error: "cache: fetch failed: getaddrinfo ENOTFOUND", fix: "check UPSTASH_REDIS_REST_URL" },
      NOW - 5_000,
    );
    const { app } = await setup({ health: () => ({ metrics, lag: 0, startedAt: NOW - 60_000 }) });
    const events = eventReader((await app.request("/api/stream")).body as ReadableStream<Uint8Array>);
    const health = JSON.parse((await events.next()).data) as HealthView;
    expect(health.down).toBe("cache down: check UPSTASH_REDIS_REST_URL");
    expect(health.downDetails).toEqual([
      "cache down since 18:29:55 UTC (5s): cache: fetch failed: getaddrinfo ENOTFOUND. Fix: check UPSTASH_REDIS_REST_URL. The consumer retries; nothing is committed until it is written.",
    ]);
    expect(health.sinkDown).toBe(true);
    expect(health.dependencies.map(({ name, up }) => [name, up])).toEqual([
      ["history", true],
      ["cache", false],
      ["dlq", true],
      ["kafka", true],
    ]);
    await events.cancel();
  });
});
