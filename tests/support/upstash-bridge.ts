/**
 * Test-only stand-in for Upstash's REST API over a real Redis, so the official @upstash/redis client can be
 * tested without the internet. Never shipped.
 *
 * Protocol (Upstash REST API, https://upstash.com/docs/redis/features/restapi):
 * - auth: `Authorization: Bearer <token>` or `?_token=<token>`; otherwise 401 `{"error":"Unauthorized"}`;
 * - a command: POST to the root with a JSON array body (`["SET","foo","bar","EX",100]`, numbers allowed), or
 *   path style, `GET /set/foo/bar`;
 * - `/pipeline` and `/multi-exec`: a JSON array of commands in, an array of `{result}`/`{error}` out; a
 *   transaction runs atomically and is discarded as a whole (400 `{error}`) when a command is rejected;
 * - bodies: `{"result": ...}` with 200, or `{"error": "..."}` with 400 for a malformed request or a Redis
 *   error; 405 for methods other than HEAD, GET, POST and PUT;
 * - `Upstash-Encoding: base64` (sent by @upstash/redis by default): every string in a result is base64
 *   (recursively in arrays) except the reply "OK".
 * Not emulated: a raw value in a path-style POST body, query-string arguments, `Upstash-Response-Format: resp2`,
 * read-only tokens, `/monitor` and `/subscribe` streams, request size and rate limits, the read-your-writes
 * sync token. RESP3 maps are flattened to RESP2 arrays; RESP3 doubles stay numbers (Upstash sends strings).
 */
import { RedisClient } from "bun";

/** A running bridge; `requests` counts every HTTP request it received, rejected ones included. */
export interface UpstashBridge {
  /** Base REST URL, `http://127.0.0.1:<port>`. */
  url: string;
  readonly requests: number;
  stop(): Promise<void>;
}

type Reply = { result: unknown } | { error: string };

class BadRequest extends Error {}

const json = (body: unknown, status = 200) => Response.json(body, { status });

function toCommand(value: unknown): string[] {
  const scalar = (v: unknown) => typeof v === "string" || typeof v === "number" || typeof v === "boolean";
  if (!Array.isArray(value) || value.length === 0 || !value.every(scalar)) {
    throw new BadRequest("ERR command must be a non-empty JSON array of strings and numbers");
  }
  return value.map(String);
}

function toCommands(value: unknown): string[][] {
  if (!Array.isArray(value) || value.length === 0)
    throw new BadRequest("ERR expected a JSON array of commands");
  return value.map(toCommand);
}

/** RESP3 replies that RESP2 (which Upstash speaks) has no type for, then the optional base64 encoding. */
function encode(value: unknown, base64: boolean): unknown {
  if (typeof value === "string")
    return base64 && value !== "OK" ? Buffer.from(value).toString("base64") : value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (Array.isArray(value)) return value.map((item) => encode(item, base64));
  if (value && typeof value === "object") return encode(Object.entries(value).flat(), base64);
  return value ?? null;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Starts the bridge on a random port of 127.0.0.1, forwarding to `redisUrl` (logical database `db`, default 0).
 * @example const bridge = await startUpstashBridge({ redisUrl, token: "test-token", db: 3 });
 */
export async function startUpstashBridge(options: {
  redisUrl: string;
  token: string;
  db?: number;
}): Promise<UpstashBridge> {
  const target = new URL(options.redisUrl);
  target.pathname = `/${options.db ?? 0}`;
  const redis = new RedisClient(target.toString());
  await redis.connect();
  let requests = 0;

  const run = async ([name, ...args]: string[]): Promise<Reply> => {
    try {
      return { result: await redis.send(name as string, args) };
    } catch (error) {
      return { error: message(error) };
    }
  };

  // A connection of its own: Bun's client pipelines concurrent requests on one socket, which would slip other
  // commands between MULTI and EXEC.
  const transaction = async (commands: string[][]): Promise<Reply[]> => {
    const tx = new RedisClient(target.toString());
    try {
      await tx.send("MULTI", []);
      for (const [name, ...args] of commands) {
        try {
          await tx.send(name as string, args);
        } catch (error) {
          await tx.send("DISCARD", []);
          throw new BadRequest(message(error));
        }
      }
      const results = (await tx.send("EXEC", [])) as unknown[];
      return results.map((result) => (result instanceof Error ? { error: result.message } : { result }));
    } finally {
      tx.close();
    }
  };

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (!["HEAD", "GET", "POST", "PUT"].includes(request.method))
      return json({ error: "Method Not Allowed" }, 405);
    const bearer = request.headers.get("authorization")?.match(/^Bearer (.+)$/)?.[1];
    if ((bearer ?? url.searchParams.get("_token")) !== options.token)
      return json({ error: "Unauthorized" }, 401);

    const base64 = request.headers.get("upstash-encoding")?.toLowerCase() === "base64";
    const encodeReply = (reply: Reply) =>
      "error" in reply ? reply : { result: encode(reply.result, base64) };
    const path = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const body = async () => {
      try {
        return await request.json();
      } catch {
        throw new BadRequest("ERR request body is not JSON");
      }
    };

    try {
      if (path.length === 1 && path[0] === "pipeline") {
        const commands = toCommands(await body());
        const replies: Reply[] = [];
        for (const command of commands) replies.push(await run(command));
        return json(replies.map(encodeReply));
      }
      if (path.length === 1 && path[0] === "multi-exec") {
        return json((await transaction(toCommands(await body()))).map(encodeReply));
      }
      const reply = await run(path.length > 0 ? path : toCommand(await body()));
      return json(encodeReply(reply), "error" in reply ? 400 : 200);
    } catch (error) {
      if (error instanceof BadRequest) return json({ error: error.message }, 400);
      throw error;
    }
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      requests++;
      return handle(request);
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    get requests() {
      return requests;
    },
    async stop() {
      await server.stop(true);
      redis.close();
    },
  };
}
