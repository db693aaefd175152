// The page's own static assets under /assets: stylesheet, icon and the live-update script (bundled from
// client.ts on first use). URLs carry a content hash, so a versioned request may be cached for a year.
import { fileURLToPath } from "node:url";
import type { Context } from "hono";
import { Hono } from "hono";
import { etag } from "hono/etag";
import chartStyle from "./chart.css" with { type: "text" };
import type { PageAssets } from "./page.tsx";
import style from "./style.css" with { type: "text" };

interface Asset {
  body: string;
  type: string;
  version: string;
}

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#4f46e5"/><polyline points="6,21 12,15 17,18 26,9" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

const version = (body: string) => Bun.hash(body).toString(36);
const asset = (body: string, type: string): Asset => ({ body, type, version: version(body) });

// The chart's rules come after the page's, so that they win where both set the same property.
const STYLE = asset(`${style}\n${chartStyle}`, "text/css; charset=utf-8");
const ICON_ASSET = asset(ICON, "image/svg+xml");

let client: Promise<Asset | null> | undefined;

// Set by scripts/build.ts (Bun.build `define`) to the bundled script: a compiled binary has no client.ts to
// bundle at run time.
declare const BELLY_LIVE_JS: string | undefined;

/**
 * Bundles client.ts for the browser (with the formatting and chart code it shares with the server).
 * Throws when Bun reports errors.
 */
export async function bundleClientScript(): Promise<string> {
  const result = await Bun.build({
    entrypoints: [fileURLToPath(new URL("./client.ts", import.meta.url))],
    target: "browser",
    format: "esm",
    minify: true,
  });
  const output = result.success ? result.outputs[0] : undefined;
  if (!output) throw new Error(`bundling client.ts failed: ${result.logs.map(String).join("; ")}`);
  return output.text();
}

/**
 * The browser script: the one compiled into the binary, or bundled once per process from client.ts; null
 * when bundling failed, in which case the page is served without live updates.
 */
function clientScript(): Promise<Asset | null> {
  client ??= (async () => {
    const text = typeof BELLY_LIVE_JS === "string" ? BELLY_LIVE_JS : await bundleClientScript();
    return asset(text, "text/javascript; charset=utf-8");
  })().catch(() => null);
  return client;
}

function serve(c: Context, found: Asset | null): Response {
  if (!found) return c.json({ error: "asset unavailable" }, 503, { "Cache-Control": "no-store" });
  const pinned = c.req.query("v") === found.version;
  return c.body(found.body, 200, {
    "Content-Type": found.type,
    // A hashed URL never changes content; an unversioned one is revalidated against the ETag.
    "Cache-Control": pinned ? "public, max-age=31536000, immutable" : "no-cache",
  });
}

/**
 * The `/assets/*` routes (and `/favicon.ico`, which browsers ask for on their own).
 * @example app.route("/", assetRoutes());
 */
export function assetRoutes(): Hono {
  const routes = new Hono();
  routes.use("/assets/*", etag());
  routes.get("/assets/style.css", (c) => serve(c, STYLE));
  routes.get("/assets/icon.svg", (c) => serve(c, ICON_ASSET));
  routes.get("/favicon.ico", (c) => serve(c, ICON_ASSET));
  routes.get("/assets/live.js", async (c) => serve(c, await clientScript()));
  return routes;
}

/**
 * Versioned URLs of the assets, for the page's <link> and <script> tags.
 * @example await assetUrls() // { style: "/assets/style.css?v=…", script: "/assets/live.js?v=…", icon: … }
 */
export async function assetUrls(): Promise<PageAssets> {
  const script = await clientScript();
  return {
    style: `/assets/style.css?v=${STYLE.version}`,
    script: script ? `/assets/live.js?v=${script.version}` : null,
    icon: `/assets/icon.svg?v=${ICON_ASSET.version}`,
  };
}
