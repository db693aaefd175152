// The status app: the page, the JSON API, the live stream and the probes, as one Hono app built from ports,
// so that tests drive it with app.request() and the consumer serves it with serveStatus().
import type { Server } from "bun";
import { Hono } from "hono";
import { describeError } from "../errors.ts";
import { downDependencies } from "../pipeline/metrics.ts";
import { tickKey } from "../tick.ts";
import { apiRoutes, revalidate } from "./api.ts";
import { assetRoutes, assetUrls } from "./assets.ts";
import { resolveDeps, type StatusDeps } from "./deps.ts";
import { openApiDocument } from "./openapi.ts";
import { renderPage } from "./page.tsx";
import { createPageCache } from "./page-cache.ts";
import { loadPage } from "./page-data.ts";
import { pageQuery } from "./params.ts";
import { probeRoutes } from "./probes.ts";
import { errorResponse, notFound } from "./responses.ts";
import { securityHeaders } from "./security.ts";
import { type StatusSnapshot, takeSnapshot } from "./snapshot.ts";
import { streamHandler } from "./sse.ts";
import { valid } from "./validate.ts";

export type { StatusDeps } from "./deps.ts";
export { createTickFeed } from "./feed.ts";

/**
 * Builds the status app: `GET /` (page), `/api/pairs`, `/api/latest/:asset`, `/api/history/:asset`,
 * `/api/candles/:asset`, `/api/stream` (SSE), `/openapi.json`, `/healthz`, `/readyz`, `/metrics`, `/assets/*`.
 * Every answer carries the security headers; sink failures are 503s with a short reason. The latest view of
 * `/api/latest` and `/api/pairs` starts filling from the cache at once, and takes `written` ticks as they come.
 * @example
 * const feed = createTickFeed();
 * const app = createStatusApp({ cache, history, fetchIntervalMs: 600_000, subscribe: feed.subscribe,
 *   health: () => ({ metrics, lag: null, startedAt }) });
 * serveStatus(app, 8080);
 */
export function createStatusApp(deps: StatusDeps) {
  const ctx = resolveDeps(deps);
  deps.written?.((tick) => ctx.latest.apply([tick]));
  // In the background: the app answers at once, and a pair not filled yet is read through meanwhile.
  ctx.latest.fill().catch((error) => {
    ctx.log?.warn("status: latest view not filled at start; reading the cache per pair", {
      error: describeError(error),
    });
  });
  const openApi = openApiDocument();
  const pages = createPageCache({ now: ctx.now });
  return (
    new Hono()
      .use(securityHeaders())
      .onError((error, c) => errorResponse(error, c, ctx.log))
      .notFound((c) => notFound(c))
      .route("/", probeRoutes(ctx))
      .route("/", assetRoutes())
      // Registered apart from the other /api routes: the ETag middleware would wait for the endless body.
      .get("/api/stream", streamHandler(ctx))
      .route("/api", apiRoutes(ctx))
      .use("/openapi.json", ...revalidate())
      .get("/openapi.json", (c) => c.json(openApi))
      .get("/", valid("query", pageQuery), async (c) => {
        const query = c.req.valid("query");
        const snapshot = await takeSnapshot(ctx);
        const html = await pages.get(`${query.pair ?? ""}|${query.range}`, pageStamp(snapshot), async () => {
          const [data, assets] = await Promise.all([loadPage(ctx, query, snapshot), assetUrls()]);
          return renderPage(data, assets);
        });
        return c.html(html, 200, { "Cache-Control": "no-cache" });
      })
  );
}

/**
 * What a rendered page shows that may change between two requests a second apart: every pair's newest tick,
 * whether the cache answered, which dependencies are down and the data's freshness.
 */
function pageStamp(snapshot: StatusSnapshot): string {
  const latest = snapshot.latest.map((tick) => `${tickKey(tick)}@${tick.sourceUpdatedAt}`).join(",");
  const down = downDependencies(snapshot.health.metrics)
    .map((state) => `${state.name}:${state.fix ?? ""}:${state.error ?? ""}`)
    .join(",");
  return `${latest}|${snapshot.cacheFailed}|${down}|${snapshot.freshness.state}|${snapshot.health.demo}`;
}

/** The status app's type, routes included: `hc<StatusApp>(url)` is a typed client of its API. */
export type StatusApp = ReturnType<typeof createStatusApp>;

/**
 * Serves the app with Bun on `port` (0 picks a free one) and `hostname` (default 127.0.0.1, HOST); returns the
 * server (`server.port`, `server.stop()`). Idle connections close after 60 s; live streams opt out.
 * @example const server = serveStatus(app, 0, "127.0.0.1"); console.log(server.url.href);
 */
export function serveStatus(app: Hono, port: number, hostname = "127.0.0.1"): Server<undefined> {
  return Bun.serve({ port, hostname, fetch: app.fetch, idleTimeout: 60 });
}
