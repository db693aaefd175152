// Probes for the platform and for Prometheus: /healthz (alive), /readyz (sinks answer, data fresh), /metrics.
import { Hono } from "hono";
import { downDependencies } from "../pipeline/metrics.ts";
import { downSummary } from "./dependency-view.ts";
import type { StatusContext } from "./deps.ts";
import { formatAge } from "./format.ts";
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from "./metrics.ts";
import { historyGaps } from "./page-data.ts";
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
 * interval, and every dependency the consumer writes to is up. `checks.consumer` names each down dependency
 * and its fix, as the page's badge does; `down` (only while one is) adds since when and the error's line.
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
    consumer: downSummary(snapshot.health.metrics) ?? "ok",
  };
  const failed = Object.entries(checks)
    .filter(([, result]) => result !== "ok")
    .map(([name]) => name);
  // The error lines come from the consumer's counters, already redacted there; JSON escapes them.
  const down = downDependencies(snapshot.health.metrics).map(({ name, since, error, fix }) => ({
    dependency: name,
    since: since === null ? null : new Date(since).toISOString(),
    error,
    fix,
  }));
  return { ready: failed.length === 0, checks, failed, ...(down.length > 0 ? { down } : {}) };
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
    .get("/metrics", async (c) => {
      const snapshot = await takeSnapshot(ctx);
      const gaps = await historyGaps(ctx, snapshot.latest);
      return c.body(prometheusText(snapshot, gaps), 200, {
        ...noStore,
        "Content-Type": PROMETHEUS_CONTENT_TYPE,
      });
    });
}
