// Local runs keep the status page and the producer's health server off the LAN: both listen on 127.0.0.1
// unless HOST says otherwise (the image and fly.toml set 0.0.0.0).
import { describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { Hono } from "hono";
import { silentLogger } from "../lib/log.ts";
import { createProducerMetrics } from "../lib/pipeline/producer-metrics.ts";
import { createSkipTracker } from "../lib/pipeline/skip-tracker.ts";
import { serveProducerHealth } from "../lib/run/producer-health.ts";
import { serveStatus } from "../lib/status/app.ts";

/** This machine's first non-loopback IPv4 address, if it has one. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === "IPv4" && !i.internal)?.address;

async function answers(host: string, port: number): Promise<boolean> {
  try {
    await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

describe("listen address", () => {
  test("the status server answers on 127.0.0.1 only by default", async () => {
    const app = new Hono().get("/healthz", (c) => c.text("ok"));
    const server = serveStatus(app, 0);
    try {
      expect(server.hostname).toBe("127.0.0.1");
      expect(await answers("127.0.0.1", server.port as number)).toBe(true);
      if (lanAddress) expect(await answers(lanAddress, server.port as number)).toBe(false);
    } finally {
      server.stop(true);
    }
  });

  test("the status server answers on another address when HOST names it", async () => {
    const app = new Hono().get("/healthz", (c) => c.text("ok"));
    const server = serveStatus(app, 0, "0.0.0.0");
    try {
      if (lanAddress) expect(await answers(lanAddress, server.port as number)).toBe(true);
      expect(await answers("127.0.0.1", server.port as number)).toBe(true);
    } finally {
      server.stop(true);
    }
  });

  test("the producer's health server answers on 127.0.0.1 only by default", async () => {
    const health = serveProducerHealth({
      port: 0,
      intervalMs: 1_000,
      graceMs: 1_000,
      metrics: createProducerMetrics(),
      pairs: createSkipTracker({ log: silentLogger, configured: { assets: [], currencies: [] } }),
    });
    try {
      expect(await answers("127.0.0.1", health.port)).toBe(true);
      if (lanAddress) expect(await answers(lanAddress, health.port)).toBe(false);
    } finally {
      health.stop();
    }
  });
});
