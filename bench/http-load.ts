/**
 * What the HTTP benchmarks share: a server in a child process of its own (so that the load generator never
 * shares its event loop), and one autocannon run that refuses to count failures as speed.
 */
import { join } from "node:path";
import autocannon from "autocannon";
import { expectEqual, interleaved, type Metrics, rate } from "./measure.ts";

/** Requests per second and 99th-percentile latency of one loaded run. */
export interface LoadMetrics extends Metrics {
  requestsPerSecond: number;
  p99Ms: number;
}

/**
 * Starts `bun bench/<script> ...args`, which prints `{"port":N}` on its first line once it listens; resolves
 * with `path` on that port and a stop function. `env` adds to the inherited environment (default: nothing).
 * @example const ours = await startBenchServer("page-server.ts", ["status", db.url], "/");
 */
export async function startBenchServer(
  script: string,
  args: string[],
  path: string,
  env: Record<string, string> = {},
): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, script), ...args], {
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, ...env },
  });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${script} ${args[0]} exited before listening (code ${await child.exited})`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { port } = JSON.parse(text.split("\n")[0] as string) as { port: number };
  return {
    url: `http://127.0.0.1:${port}${path}`,
    stop: async () => {
      child.kill();
      await child.exited;
    },
  };
}

/**
 * One autocannon run of `seconds` over `connections`; fails on any error or non-2xx answer.
 * @example const { requestsPerSecond, p99Ms } = await httpLoad(url, 3, 64);
 */
export async function httpLoad(url: string, seconds: number, connections: number): Promise<LoadMetrics> {
  const result = await autocannon({ url, connections, duration: seconds });
  expectEqual(`${url}: errors`, result.errors, 0);
  expectEqual(`${url}: non-2xx answers`, result.non2xx, 0);
  return { requestsPerSecond: result.requests.average, p99Ms: result.latency.p99 };
}

/**
 * Warms both servers up, then loads them in interleaved rounds (see `interleaved`), each round logged with its
 * req/s and p99. Defaults: 1 s warm-up, 3 s rounds.
 * @example const rounds = await oursVsBare(ours.url, bare.url, 64, ctx.log);
 */
export async function oursVsBare(
  oursUrl: string,
  bareUrl: string,
  connections: number,
  log: (line: string) => void,
  { warmupS = 1, durationS = 3 }: { warmupS?: number; durationS?: number } = {},
) {
  await httpLoad(oursUrl, warmupS, connections);
  await httpLoad(bareUrl, warmupS, connections);
  return interleaved(
    {
      ours: () => httpLoad(oursUrl, durationS, connections),
      baseline: () => httpLoad(bareUrl, durationS, connections),
    },
    log,
    (m) => `${rate(m.requestsPerSecond, "req/s")} p99 ${m.p99Ms} ms`,
  );
}
