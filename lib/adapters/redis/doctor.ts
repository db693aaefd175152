/**
 * Redis checks for redis:// and rediss:// URLs: reachable, password accepted (PING), and Lua scripts allowed —
 * the consumer's latest-price cache writes through SCRIPT LOAD + EVALSHA, falling back to EVAL.
 */
import { RedisClient } from "bun";
import { type Check, type CheckGroup, fail, ok } from "../../checks/check.ts";
import { probeTcp } from "../../checks/tcp.ts";
import { describeError } from "../../errors.ts";
import { classifyRedisError } from "./failures.ts";

/** The commands the checks send; Bun's RedisClient in production, a fake in unit tests. */
export interface RedisCommands {
  send(command: string, args: string[]): Promise<unknown>;
  close(): void;
}

/** What the Redis checks need from outside. */
interface RedisCheckDeps {
  probe: typeof probeTcp;
  connect: (url: string, timeoutMs: number) => RedisCommands;
}

const defaultDeps: RedisCheckDeps = {
  probe: probeTcp,
  // No retries and no reconnects: a doctor reports the first refusal instead of hiding it behind a retry loop.
  connect: (url, timeoutMs) =>
    new RedisClient(url, { connectionTimeout: timeoutMs, maxRetries: 0, autoReconnect: false }),
};

const PROBE_TIMEOUT_MS = 5_000;
/** A script with no keys and no effect: proves scripting works without touching data. */
const PROBE_SCRIPT = "return 1";

function target(url: URL) {
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : 6379,
    tls: url.protocol === "rediss:",
  };
}

/**
 * The Redis check group: reach → PING → scripts.
 * @example const group = redisChecks("rediss://default:pw@eu1-x.upstash.io:6379");
 */
export function redisChecks(url: string, deps: Partial<RedisCheckDeps> = {}): CheckGroup {
  const { probe, connect } = { ...defaultDeps, ...deps };
  const parsed = new URL(url);
  const where = target(parsed);
  const address = `${where.host}:${where.port}`;
  const user = decodeURIComponent(parsed.username) || "default";
  let client: RedisCommands | undefined;

  const reach: Check = {
    id: "redis.reach",
    title: `reach ${address}`,
    async run() {
      const result = await probe(where, PROBE_TIMEOUT_MS);
      const how = where.tls ? "TLS" : "plain TCP";
      if (result.ok) return ok(`reachable (${address}, ${how})`);
      if (result.kind === "dns") return fail(`cannot resolve ${where.host}`, "check the host in REDIS_URL");
      if (result.kind === "refused")
        return fail(
          `nothing listens on ${address} (connection refused)`,
          "check the host and port in REDIS_URL",
        );
      if (result.kind.startsWith("tls"))
        return fail(
          `TLS with ${address} failed (${result.detail})`,
          "use redis:// if this Redis has no TLS, or fix its certificate",
        );
      return fail(`${address}: ${result.detail}`, "check REDIS_URL and firewalls");
    },
  };

  const auth: Check = {
    id: "redis.auth",
    title: "PING",
    needs: [reach.id],
    async run() {
      client = connect(url, PROBE_TIMEOUT_MS);
      try {
        const answer = await client.send("PING", []);
        if (String(answer) !== "PONG")
          return fail(`PING answered ${String(answer)}, not PONG`, "REDIS_URL may point at something else");
      } catch (error) {
        const failure = classifyRedisError(error, user);
        if (failure?.kind === "password") return fail(`password rejected for user "${user}"`, failure.fix);
        if (failure?.kind === "no-password")
          return fail("this Redis requires a password, and REDIS_URL has none", failure.fix);
        // The TCP probe just succeeded, so a connection closed at once means a TLS server read plain text.
        if (failure?.kind === "unreachable" && /closed|reset/i.test(describeError(error)) && !where.tls)
          return fail(
            `${address} closed the connection`,
            "if this Redis wants TLS (Upstash and most clouds do), use rediss:// in REDIS_URL",
          );
        return fail(`PING failed: ${describeError(error)}`, failure?.fix ?? "check REDIS_URL");
      }
      return ok(`PING answered PONG (signed in as "${user}")`);
    },
  };

  const scripts: Check = {
    id: "redis.scripts",
    title: "run Lua scripts",
    needs: [auth.id],
    async run() {
      const redis = client;
      if (!redis) throw new Error("no Redis connection");
      try {
        const direct = await redis.send("EVAL", [PROBE_SCRIPT, "0"]);
        const sha = String(await redis.send("SCRIPT", ["LOAD", PROBE_SCRIPT]));
        const cached = await redis.send("EVALSHA", [sha, "0"]);
        if (Number(direct) !== 1 || Number(cached) !== 1)
          return fail(
            `a test script returned ${String(direct)}, not 1`,
            "check that REDIS_URL points at Redis",
          );
      } catch (error) {
        const text = describeError(error);
        const failure = classifyRedisError(error, user);
        if (failure?.kind === "no-script-acl")
          return fail(
            `user "${user}" may not run Lua scripts (${text}); the latest-price cache writes through one`,
            failure.fix,
          );
        if (failure?.kind === "no-scripts")
          return fail(
            `this Redis does not run Lua scripts (${text}); the latest-price cache needs them`,
            failure.fix,
          );
        return fail(`a test script failed: ${text}`, "check REDIS_URL");
      }
      return ok("Lua scripts allowed (EVAL, SCRIPT LOAD, EVALSHA), as the latest-price cache needs");
    },
  };

  return {
    subject: "redis",
    checks: [reach, auth, scripts],
    async close() {
      client?.close();
    },
  };
}
