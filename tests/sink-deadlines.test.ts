// Every write and ping of the REST sinks (Supabase, Upstash) ends by its deadline with an error the consumer
// retries, whichever part of the answer never comes: a link frozen before the answer, or one frozen after its
// headers, in the middle of the body. A call that hung instead would hold its batch, uncommitted, forever.
import { afterAll, describe, expect, test } from "bun:test";
import { createSupabaseHistory } from "../lib/adapters/supabase/history.ts";
import { createUpstashCache } from "../lib/adapters/upstash/cache.ts";
import { SinkError } from "../lib/errors.ts";
import { makeTick } from "./support/ticks.ts";

const DEADLINE_MS = 500;
// Generous for a loaded 2-core machine; a hang is what this catches, not a few hundred ms.
const SLACK_MS = 2_000;

const servers: ReturnType<typeof Bun.serve>[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop(true)));
});

/** A local server that never answers (`silent`), or sends a 200/201 and one byte of body, then nothing more. */
function stallingServer(stall: "silent" | "mid-body"): string {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      if (stall === "silent") return new Promise<Response>(() => {});
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("["));
        },
      });
      const status = request.method === "POST" && request.url.includes("/rest/v1/") ? 201 : 200;
      return new Response(body, { status, headers: { "content-type": "application/json" } });
    },
  });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

/** The call's rejection, and how long it took to come. */
async function timed(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const hung = Bun.sleep(DEADLINE_MS + SLACK_MS).then(() => "hung past its deadline");
  const outcome = await Promise.race([
    call().then(
      () => "resolved",
      (error: unknown) => ({ error }),
    ),
    hung,
  ]);
  if (typeof outcome === "string") throw new Error(`the call ${outcome}`);
  return { error: outcome.error, ms: performance.now() - started };
}

function expectRetriedSinkError(result: { error: unknown; ms: number }, sink: "history" | "cache") {
  expect(result.error).toBeInstanceOf(SinkError);
  expect((result.error as SinkError).sink).toBe(sink);
  expect((result.error as SinkError).retriable).toBe(true);
  expect(result.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
  expect(result.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
}

describe("REST sinks: a call whose answer stalls fails at its deadline, retriable", () => {
  for (const stall of ["silent", "mid-body"] as const) {
    test(`Supabase upsert and ping, ${stall === "silent" ? "no answer at all" : "body stalled after the headers"}`, async () => {
      const history = createSupabaseHistory({
        url: stallingServer(stall),
        key: "key-123456",
        timeoutMs: DEADLINE_MS,
      });
      expectRetriedSinkError(await timed(() => history.upsert([makeTick()])), "history");
      expectRetriedSinkError(await timed(() => history.ping()), "history");
    }, 15_000);

    test(`Upstash write and ping, ${stall === "silent" ? "no answer at all" : "body stalled after the headers"}`, async () => {
      const cache = createUpstashCache({
        url: stallingServer(stall),
        token: "token-123456",
        timeoutMs: DEADLINE_MS,
      });
      expectRetriedSinkError(await timed(() => cache.putIfNewer([makeTick()])), "cache");
      expectRetriedSinkError(await timed(() => cache.ping()), "cache");
    }, 15_000);
  }
});
