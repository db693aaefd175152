// Probes for the platform and for Prometheus: /healthz (alive), /readyz (sinks answer, data fresh), /metrics.
import { Hono } from "hono";
import type { StatusContext } from "./deps.ts";
import { formatAge } from "./format.ts";
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from "./metrics.ts";
import { type StatusSnapshot, takeSnapshot } from "./snapshot.ts";

// Outcome of one readiness check: "ok" or a short reason.
type CheckResult = "ok" | string;

const ping = (call: Promise<void>, sink: string): Promise<CheckResult> =>
  call.then(
    () => "ok",
    () => `${sink} unavailable`,
  );

function dataCheck({ freshness }: StatusSnapshot): CheckResult {
  if (freshness.state === "fresh") return "ok";
  if (freshness.state === "waiting") return "no tick yet";
  return `stale: newest tick ${formatAge(freshness.ageMs)} old, limit ${formatAge(freshness.staleAfterMs)}`;
}

/**
 * Runs the readiness checks: both sinks answer a ping, the newest tick is younger than twice the fetch
 * interval, and the consumer's last sink write did not fail.
 */
async function readiness(ctx: StatusContext) {
  const [cache, history, snapshot] = await Promise.all([
    ping(ctx.cache.ping(), "cache"),
    ping(ctx.history.ping(), "history"),
    takeSnapshot(ctx),
  ]);
  const checks = {
    cache,
    history,
    data: dataCheck(snapshot),
    consumer: snapshot.health.metrics.sinkDown ? "last sink write failed" : "ok",
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
export function probeRoutes(ctx: StatusContext) {
  const noStore = { "Cache-Control": "no-store" };
  return new Hono()
    .get("/healthz", (c) =>
      c.json(
        { status: "alive", uptimeSeconds: Math.round((ctx.now() - ctx.health().startedAt) / 1000) },
        200,
        noStore,
      ),
    )
    .get("/readyz", async (c) => {
      const result = await readiness(ctx);
      return c.json(result, result.ready ? 200 : 503, noStore);
    })
    .get("/metrics", async (c) =>
      c.body(prometheusText(await takeSnapshot(ctx)), 200, {
        ...noStore,
        "Content-Type": PROMETHEUS_CONTENT_TYPE,
      }),
    );
}
