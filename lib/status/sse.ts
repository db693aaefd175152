// GET /api/stream: server-sent events with each committed tick (formatted for the page) and a heartbeat that
// also refreshes the health panel.
import type { Context } from "hono";
import { type SSEMessage, streamSSE } from "hono/streaming";
import type { Tick } from "../tick.ts";
import type { StatusContext } from "./deps.ts";
import { unavailable } from "./responses.ts";
import { laterSnapshot, takeSnapshot } from "./snapshot.ts";
import { cardView, healthView, type TickEvent } from "./view.ts";

/** Events queued for one slow client before its stream is closed (EventSource then reconnects). */
const MAX_PENDING_EVENTS = 256;
/** How long the browser waits before reconnecting, sent in the first event. */
const RETRY_MS = 3000;

// Bun closes a connection that wrote nothing for `idleTimeout` (10 s by default); a stream is quiet between
// ticks by design, so it opts out for its own request when served by Bun (Hono passes the server as env).
function keepOpen(c: Context): void {
  const server = c.env as { timeout?: (request: Request, seconds: number) => void } | undefined;
  try {
    server?.timeout?.(c.req.raw, 0);
  } catch {
    // Not Bun, or an older one: the heartbeat keeps most proxies and servers happy anyway.
  }
}

/**
 * The live stream route handler: `hello` (health, with the retry delay), then `tick` per published tick and
 * `health` every heartbeat; 503 when live updates are off or `maxStreams` streams are open.
 * @example app.get("/api/stream", streamHandler(ctx));
 */
export function streamHandler(ctx: StatusContext) {
  let open = 0;
  return async (c: Context): Promise<Response> => {
    const subscribe = ctx.subscribe;
    if (!subscribe) return unavailable(c, "live updates not enabled");
    // Hono answers HEAD by running the GET handler and dropping the body unread: a stream opened for it would
    // never see its client leave, and would hold a slot for good.
    if (c.req.method === "HEAD") return c.body(null, 200, { "Content-Type": "text/event-stream" });
    // Read once: later events report the same snapshot moved on, so heartbeats never touch the cache.
    let snapshot = await takeSnapshot(ctx);
    if (open >= ctx.maxStreams) return unavailable(c, "too many live streams");
    open++;
    keepOpen(c);
    const health = (seen: Tick[] = []) => {
      snapshot = laterSnapshot(ctx, snapshot, seen);
      return healthView(snapshot);
    };

    return streamSSE(c, async (stream) => {
      const closed = Promise.withResolvers<void>();
      let queue = Promise.resolve();
      let pending = 0;
      const send = (message: SSEMessage) => {
        if (stream.aborted || stream.closed) return;
        if (pending >= MAX_PENDING_EVENTS) {
          closed.resolve();
          return;
        }
        pending++;
        queue = queue
          .then(() => stream.writeSSE(message))
          .finally(() => {
            pending--;
          });
      };
      const onTick = (tick: Tick) => {
        const event: TickEvent = { card: cardView(tick), health: health([tick]) };
        send({ event: "tick", data: JSON.stringify(event) });
      };

      const unsubscribe = subscribe(onTick);
      const heartbeat = setInterval(
        () => send({ event: "health", data: JSON.stringify(health()) }),
        ctx.heartbeatMs,
      );
      stream.onAbort(() => closed.resolve());
      send({ event: "hello", data: JSON.stringify(health()), retry: RETRY_MS });
      try {
        await closed.promise;
      } finally {
        clearInterval(heartbeat);
        unsubscribe();
        open--;
      }
    });
  };
}
