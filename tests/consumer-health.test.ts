// The consumer's view of Kafka: each health check of the bus (the lag probe's sample) marks it up or down, and
// the page's badge, /readyz, /metrics and the logs say so the way they do for the sinks.
import { describe, expect, test } from "bun:test";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { BusError } from "../lib/errors.ts";
import { createLogger } from "../lib/log.ts";
import type { ConsumerBus, Subscription } from "../lib/ports.ts";
import { runConsumerService } from "../lib/run/consumer-service.ts";
import { waitFor } from "./support/processes.ts";

/** A bus that never delivers, whose health checks the test reports through `check`. */
function watchedBus() {
  const listeners: ((error: Error | null) => void)[] = [];
  const bus: ConsumerBus = {
    deadLetters: { send: async () => {} },
    async subscribe(): Promise<Subscription> {
      const { promise, resolve } = Promise.withResolvers<void>();
      return { done: promise, stop: async () => resolve() };
    },
    lag: () => null,
    watch: (listener) => void listeners.push(listener),
    close: async () => {},
  };
  const check = (error: Error | null) => {
    for (const listener of listeners) listener(error);
  };
  return { bus, check };
}

describe("the consumer's health of Kafka", () => {
  test("a failed check names kafka and its fix on /readyz and /metrics, with one warn line per outage", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ secrets: ["hunter2"], sink: (line) => lines.push(JSON.parse(line)) });
    const { bus, check } = watchedBus();
    const stop = new AbortController();
    const running = runConsumerService({
      bus,
      history: createMemoryHistory(),
      cache: createMemoryCache(),
      log,
      signal: stop.signal,
      port: 0,
      fetchIntervalMs: 60_000,
    });
    try {
      await waitFor("the consumer to start", () => lines.some((l) => l.msg === "consumer started"), 5_000);
      const base = String(lines.find((l) => l.msg === "status page")?.url);
      const down = new BusError("reach Kafka: cannot reach Kafka at broker:9092 (password hunter2)", {
        hint: "check KAFKA_BROKERS and that the broker is running",
        retriable: true,
      });
      for (let i = 0; i < 3; i++) check(down);

      const ready = await fetch(`${base}readyz`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { checks: Record<string, string>; down: unknown[] };
      expect(body.checks.consumer).toBe("kafka down: check KAFKA_BROKERS and that the broker is running");
      expect(body.down).toEqual([
        expect.objectContaining({
          dependency: "kafka",
          error: "reach Kafka: cannot reach Kafka at broker:9092 (password ***)",
          fix: "check KAFKA_BROKERS and that the broker is running",
        }),
      ]);
      const metrics = await (await fetch(`${base}metrics`)).text();
      expect(metrics).toMatch(/^belly_dependency_up\{dependency="kafka"\} 0$/m);
      // Kafka is read from, not written to: the sinks are fine.
      expect(metrics).toMatch(/^belly_sink_down 0$/m);
      expect(lines.filter((l) => l.msg === "kafka down")).toEqual([
        expect.objectContaining({ level: "warn", fix: "check KAFKA_BROKERS and that the broker is running" }),
      ]);

      check(null);
      check(null);
      expect(lines.filter((l) => l.msg === "kafka recovered")).toHaveLength(1);
      const healed = await (await fetch(`${base}metrics`)).text();
      expect(healed).toMatch(/^belly_dependency_up\{dependency="kafka"\} 1$/m);
      expect(JSON.stringify(lines)).not.toContain("hunter2");
    } finally {
      stop.abort();
      await running;
    }
  });
});
