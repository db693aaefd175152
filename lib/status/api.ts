// JSON API: pairs and latest prices (from the in-process latest view), history and candles. Every parameter is validated (400 with the issues), an
// unknown pair is a 404, and a sink failure becomes a 503 in the app's error handler (SinkError).
import type { Context, MiddlewareHandler, TypedResponse } from "hono";
import { Hono } from "hono";
import { etag } from "hono/etag";
import { SinkError } from "../errors.ts";
import type { Body } from "./bodies.ts";
import type { StatusContext } from "./deps.ts";
import type { Answer } from "./latest-view.ts";
import { assetParams, candlesQuery, candleWindow, historyQuery, latestQuery, pairsQuery } from "./params.ts";
import { badRequest, notFound } from "./responses.ts";
import { API_SECURITY_HEADERS } from "./security.ts";
import { valid } from "./validate.ts";

/**
 * Revalidate-always caching for JSON that changes with every tick: clients and proxies keep the body but
 * ask again each time, and the ETag turns an unchanged answer into an empty 304.
 */
export function revalidate(): MiddlewareHandler[] {
  const setCacheControl: MiddlewareHandler = async (c, next) => {
    await next();
    const { status, headers } = c.res;
    if ((status === 200 || status === 304) && !headers.has("Cache-Control"))
      headers.set("Cache-Control", "no-cache");
  };
  return [setCacheControl, etag()];
}

// Whether any sink knows the pair: an empty window of a known pair is a 200 with no rows, not a 404. The
// history decides when the cache is down, so that a Redis outage does not hide Postgres' data.
async function pairKnown(ctx: StatusContext, asset: string, currency: string): Promise<boolean> {
  try {
    if (await ctx.cache.get(asset, currency)) return true;
  } catch (error) {
    if (!(error instanceof SinkError)) throw error;
  }
  return (await ctx.history.recent(asset, currency, 1)).length > 0;
}

// An answer made in advance by the latest view: a 200 and an empty 304 for a matching If-None-Match, as the
// etag middleware answers (the routes of these answers skip it), each built once per answer with its headers
// and encoded body, and cloned per request: a clone costs about 0.6 µs where a Response made of the same body
// and Headers costs 1.3-1.5 µs. Typed as the JSON it holds, so that `hc<StatusApp>` clients read it as that
// body.
interface Prepared {
  ok: Response;
  notModified: Response;
}
const preparedResponses = new WeakMap<Answer, Prepared>();
const encoder = new TextEncoder();

function preparedOf(answer: Answer): Prepared {
  let parts = preparedResponses.get(answer);
  if (!parts) {
    const validators: [string, string][] = [
      ["ETag", answer.etag],
      ["Cache-Control", "no-cache"],
    ];
    const ok = new Headers([...API_SECURITY_HEADERS, ["Content-Type", "application/json"], ...validators]);
    parts = {
      // A string body would be encoded again by every Response made of it.
      ok: new Response(encoder.encode(answer.body), { status: 200, headers: ok }),
      notModified: new Response(null, {
        status: 304,
        statusText: "Not Modified",
        headers: new Headers([...API_SECURITY_HEADERS, ...validators]),
      }),
    };
    preparedResponses.set(answer, parts);
  }
  return parts;
}

/** Whether If-None-Match names `etag`, as Hono's etag middleware reads it (weak or strong, or `*`). */
function etagMatches(etag: string, ifNoneMatch: string): boolean {
  if (ifNoneMatch.trim() === "*") return true;
  const expected = etag.replace(/^W\//, "");
  return ifNoneMatch.match(/"[^"]*"/g)?.some((tag) => tag === expected) ?? false;
}

const prepared = <T>(c: Context, answer: Answer) => {
  const parts = preparedOf(answer);
  const ifNoneMatch = c.req.raw.headers.get("If-None-Match");
  const template =
    ifNoneMatch !== null && etagMatches(answer.etag, ifNoneMatch) ? parts.notModified : parts.ok;
  return template.clone() as unknown as Response & TypedResponse<T, 200, "json">;
};

const unknownPair = (c: Context, asset: string, currency: string) =>
  notFound(c, `unknown pair ${asset}:${currency}`);

/**
 * The `/api` routes except the live stream (which must not go through the ETag middleware).
 * @example app.route("/api", apiRoutes(ctx));
 */
export function apiRoutes(ctx: StatusContext) {
  const api = new Hono();
  // `/pairs` and `/latest` answer with prepared validators of their own (see `prepared`).
  for (const path of ["/history/*", "/candles/*"]) api.use(path, ...revalidate());
  return api
    .get("/pairs", valid("query", pairsQuery), async (c) =>
      prepared<Body<"Pairs">>(c, await ctx.latest.pairs()),
    )
    .get("/latest/:asset", valid("param", assetParams), valid("query", latestQuery), async (c) => {
      const { asset } = c.req.valid("param");
      const { currency } = c.req.valid("query");
      if (currency) {
        const answer = await ctx.latest.pair(asset, currency);
        return answer ? prepared<Body<"Latest">>(c, answer) : unknownPair(c, asset, currency);
      }
      // The view has the cache repaired when it lost this asset's keys only, and looks once more.
      const answer = await ctx.latest.asset(asset);
      return answer ? prepared<Body<"Latest">>(c, answer) : notFound(c, `unknown asset ${asset}`);
    })
    .get("/history/:asset", valid("param", assetParams), valid("query", historyQuery), async (c) => {
      const { asset } = c.req.valid("param");
      const { currency, from, to, limit } = c.req.valid("query");
      const ticks = await ctx.history.range({ asset, currency, from, to, limit });
      if (ticks.length === 0 && !(await pairKnown(ctx, asset, currency)))
        return unknownPair(c, asset, currency);
      return c.json(
        {
          asset,
          currency,
          from: from?.toISOString() ?? null,
          to: to?.toISOString() ?? null,
          limit,
          ticks,
        } satisfies Body<"History">,
        200,
      );
    })
    .get("/candles/:asset", valid("param", assetParams), valid("query", candlesQuery), async (c) => {
      const { asset } = c.req.valid("param");
      const query = c.req.valid("query");
      const window = candleWindow(query, ctx.now());
      if ("error" in window) return badRequest(c, window.error);
      const { currency, interval } = query;
      const candles = await ctx.history.candles({ asset, currency, interval, ...window });
      if (candles.length === 0 && !(await pairKnown(ctx, asset, currency)))
        return unknownPair(c, asset, currency);
      return c.json(
        {
          asset,
          currency,
          interval,
          from: window.from.toISOString(),
          to: window.to.toISOString(),
          candles,
        } satisfies Body<"Candles">,
        200,
      );
    });
}
