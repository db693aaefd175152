// Probes for the platform and for Prometheus: /healthz (alive), /readyz (sinks answer, data fresh), /metrics.
import { Hono } from "hono";
import type { Tick } from "../tick.ts";
import type { StatusContext } from "./deps.ts";
import { formatAge } from "./format.ts";
import { freshness, newestTickAt } from "./health.ts";
import { latestTicks } from "./latest.ts";
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from "./metrics.ts";

/** Outcome of one readiness check: "ok" or a short reason. */
export type CheckResult = "ok" | string;

/** Body of /readyz. */
export interface Readiness {
  ready: boolean;
  checks: { cache: CheckResult; history: CheckResult; data: CheckResult; consumer: CheckResult };
  /** Names of the failed checks. */
  failed: string[];
}

// Reads the latest ticks for freshness, treating a failed cache as "no ticks" (the ping check reports it).
async function latestOrEmpty(ctx: StatusContext): Promise<Tick[]> {
  try {
    return await latestTicks(ctx.cache);
  } catch {
    return [];
  }
}

/**
 * Runs the readiness checks: both sinks answer a ping, the newest tick is younger than twice the fetch
 * interval, and the consumer's last sink write did not fail.
 */
export async function readiness(ctx: StatusContext): Promise<Readiness> {
  const [cache, history, latest] = await Promise.allSettled([
    ctx.cache.ping(),
    ctx.history.ping(),
    latestOrEmpty(ctx),
  ]);
  const health = ctx.health();
  const fresh = freshness(
    newestTickAt(latest.status === "fulfilled" ? latest.value : [], health.metrics),
    ctx.now(),
    ctx.fetchIntervalMs,
  );
  const checks = {
    cache: cache.status === "fulfilled" ? "ok" : "cache unavailable",
    history: history.status === "fulfilled" ? "ok" : "history unavailable",
    data:
      fresh.state === "fresh"
        ? "ok"
        : fresh.state === "waiting"
          ? "no tick yet"
          : `stale: newest tick ${formatAge(fresh.ageMs)} old, limit ${formatAge(fresh.staleAfterMs)}`,
    consumer: health.metrics.sinkDown ? "last sink write failed" : "ok",
  };
  const failed = Object.entries(checks)
    .filter(([, result]) => result !== "ok")
    .map(([name]) => name);
  return { ready: failed.length === 0, checks, failed };
}

/**
 * `/healthz`, `/readyz` and `/metrics`, never cached.
 * @example app.route("/", probeRoutes(ctx));
 */
export function probeRoutes(ctx: StatusContext): Hono {
  const probes = new Hono();
  const noStore = { "Cache-Control": "no-store" };

  probes.get("/healthz", (c) =>
    c.json(
      { status: "alive", uptimeSeconds: Math.round((ctx.now() - ctx.health().startedAt) / 1000) },
      200,
      noStore,
    ),
  );

  probes.get("/readyz", async (c) => {
    const result = await readiness(ctx);
    return c.json(result, result.ready ? 200 : 503, noStore);
  });

  probes.get("/metrics", async (c) => {
    const health = ctx.health();
    const fresh = freshness(
      newestTickAt(await latestOrEmpty(ctx), health.metrics),
      ctx.now(),
      ctx.fetchIntervalMs,
    );
    return c.body(prometheusText(health, fresh.ageMs), 200, {
      ...noStore,
      "Content-Type": PROMETHEUS_CONTENT_TYPE,
    });
  });

  return probes;
}
