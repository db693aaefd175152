import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RedisClient } from "bun";
import { HOST, PORTS } from "./config.ts";
import { isOurProcess, readPid, run, stopProcess, tailFile } from "./process.ts";
import type { Service, ServiceStatus, UpOutcome } from "./service.ts";
import { elapsed, isPortOpen, waitUntil } from "./wait.ts";

const READY_TIMEOUT_MS = 20_000;
const URL = `redis://${HOST}:${PORTS.redis}`;

/** PING answered with PONG. Default: each attempt gives up after 1 s. */
export async function redisAnswers(timeoutMs = 1000): Promise<boolean> {
  if (!(await isPortOpen(PORTS.redis))) return false;
  // No reconnects and no offline queue: a probe must fail fast, not wait for a server that is not there.
  const client = new RedisClient(URL, {
    connectionTimeout: timeoutMs,
    autoReconnect: false,
    enableOfflineQueue: false,
  });
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** Debian's redis-server on 127.0.0.1:16379 (plus any port offset), without persistence (test data only). */
export function redisService(stateDir: string): Service {
  const root = join(stateDir, "redis");
  const pidFile = join(root, "redis.pid");
  const logFile = join(root, "redis.log");
  const confFile = join(root, "redis.conf");
  const needle = `${HOST}:${PORTS.redis}`;
  const ourPid = () => {
    const pid = readPid(pidFile);
    return isOurProcess(pid, "redis-server") ? pid : undefined;
  };

  return {
    name: "redis",
    async up(progress): Promise<UpOutcome> {
      const start = performance.now();
      if (await redisAnswers()) return "reused";
      if (await isPortOpen(PORTS.redis)) {
        throw new Error(
          `redis: port ${PORTS.redis} is taken by something that does not answer PING; free the port`,
        );
      }
      mkdirSync(root, { recursive: true });
      progress("redis", "starting…");
      // daemonize: redis forks and writes its pid file itself, so it outlives this process.
      // No persistence: the stack holds test data only.
      const conf = [
        `bind ${HOST}`,
        `port ${PORTS.redis}`,
        `dir ${root}`,
        'save ""',
        "appendonly no",
        "daemonize yes",
        `pidfile ${pidFile}`,
        `logfile ${logFile}`,
      ];
      writeFileSync(confFile, `${conf.join("\n")}\n`);
      await run(["redis-server", confFile]);
      try {
        await waitUntil("redis", redisAnswers, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100 });
      } catch (error) {
        throw new Error(
          `${error instanceof Error ? error.message : error}\n--- tail of ${logFile} ---\n${tailFile(logFile)}`,
        );
      }
      progress("redis", `ready in ${elapsed(start)} (${needle})`);
      return "started";
    },

    async down(wipe) {
      const pid = ourPid();
      let did = "not running";
      if (pid !== undefined)
        did = `${await stopProcess(pid, { needle: "redis-server", graceMs: 10_000 })} pid ${pid}`;
      else if (await isPortOpen(PORTS.redis)) did = "left running (not started by this stack)";
      if (wipe) rmSync(root, { recursive: true, force: true });
      return did;
    },

    async status(): Promise<ServiceStatus> {
      return { name: "redis", healthy: await redisAnswers(), pid: ourPid(), detail: URL };
    },
  };
}
