// The README's typed-client example, as a reader would paste it: compiled by tsc against the real StatusApp
// type (a wrong route, parameter or field would not compile), then run against a live app on a free port.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import { createStatusApp, serveStatus } from "../lib/status/app.ts";
import { makeTick } from "./support/ticks.ts";

const ROOT = new URL("../", import.meta.url).pathname;
// Inside the repository, so that the example resolves hono and the app's modules as the README's reader does.
const DIR = join(ROOT, "tests", ".typed-client");
let server: Server<undefined>;

/** The README's TypeScript block under "A typed client". */
async function readmeExample(): Promise<string> {
  const readme = await Bun.file(join(ROOT, "README.md")).text();
  const section = readme.slice(readme.indexOf("### A typed client"));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error("README.md has no ts block under 'A typed client'");
  return block;
}

beforeAll(async () => {
  const history = createMemoryHistory();
  const cache = createMemoryCache();
  const ticks = [1, 2, 3].map((n) =>
    makeTick({
      asset: "beldex",
      currency: "usd",
      price: 0.08 + n / 1000,
      sourceUpdatedAt: `2026-12-01T0${n}:00:00.000Z`,
    }),
  );
  await history.upsert(ticks);
  await cache.putIfNewer(ticks);
  const app = createStatusApp({
    cache,
    history,
    fetchIntervalMs: 600_000,
    health: () => ({ metrics: createConsumerMetrics(), lag: null, startedAt: Date.now() }),
  });
  server = serveStatus(app, 0);
  mkdirSync(DIR, { recursive: true });
  const example = (await readmeExample()).replace('"./lib/status/app.ts"', '"../../lib/status/app.ts"');
  writeFileSync(join(DIR, "example.ts"), example);
  writeFileSync(
    join(DIR, "tsconfig.json"),
    JSON.stringify({ extends: "../../tsconfig.json", include: ["example.ts", "../../lib/**/*.d.ts"] }),
  );
});

afterAll(() => {
  server?.stop(true);
  rmSync(DIR, { recursive: true, force: true });
});

describe("the README's typed client", () => {
  test("compiles under the project's strict settings", () => {
    const tsc = Bun.spawnSync([join(ROOT, "node_modules/.bin/tsc"), "--noEmit", "-p", DIR], {
      stdout: "pipe",
    });
    expect(tsc.stdout.toString()).toBe("");
    expect(tsc.exitCode).toBe(0);
  }, 60_000);

  test("would not compile with a wrong field: the types are real, not any", () => {
    const wrong = join(DIR, "wrong.ts");
    writeFileSync(
      wrong,
      `import { hc } from "hono/client";
import type { StatusApp } from "../../lib/status/app.ts";
const api = hc<StatusApp>("http://127.0.0.1:1").api;
const res = await api.latest[":asset"].$get({ param: { asset: "beldex" }, query: {} });
if (res.ok) { const price: string = (await res.json()).ticks[0]?.price ?? ""; console.log(price); }
`,
    );
    writeFileSync(
      join(DIR, "tsconfig.wrong.json"),
      JSON.stringify({ extends: "../../tsconfig.json", include: ["wrong.ts", "../../lib/**/*.d.ts"] }),
    );
    const tsc = Bun.spawnSync(
      [join(ROOT, "node_modules/.bin/tsc"), "--noEmit", "-p", join(DIR, "tsconfig.wrong.json")],
      {
        stdout: "pipe",
      },
    );
    expect(tsc.exitCode).not.toBe(0);
    expect(tsc.stdout.toString()).toContain("not assignable to type 'string'");
  }, 60_000);

  test("reads the latest prices and the history of a live app", async () => {
    const run = Bun.spawn([process.execPath, join(DIR, "example.ts")], {
      cwd: DIR,
      env: { ...process.env, BELLY_URL: `http://127.0.0.1:${server.port}` },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([
      new Response(run.stdout).text(),
      new Response(run.stderr).text(),
      run.exited,
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out.trim().split("\n")).toEqual(["usd 0.083", "3 ticks of history"]);
  });
});
