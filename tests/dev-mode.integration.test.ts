// The README's run command with no .env: producer, consumer and status page in one process, no services.
// It runs scripts/run.sh itself, as a user would (its install step is a no-op once node_modules is there).

import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCommand, waitFor } from "./support/processes.ts";

const dir = mkdtempSync(join(tmpdir(), "belly-dev-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("one-process mode (bash scripts/run.sh --demo)", () => {
  test("serves a labelled demo price within one interval and stops on Ctrl-C with every tick stored", async () => {
    const sqlitePath = join(dir, "demo.sqlite");
    const env = { PORT: "0", SQLITE_PATH: sqlitePath, FETCH_INTERVAL: "2" };
    const dev = startCommand(["bash", "scripts/run.sh", "--demo"], env);
    try {
      const line = await waitFor("the status page URL", () =>
        dev.logs().find((l) => l.msg === "status page"),
      );
      const base = String(line?.url);
      const latest = await waitFor("a latest price", async () => {
        const response = await fetch(`${base}api/latest/beldex?currency=usd`);
        return response.status === 200 ? await response.json() : null;
      });
      expect(JSON.stringify(latest)).toContain('"source":"demo"');
      expect(await (await fetch(base)).text()).toMatch(/demo/i);
      await waitFor(
        "three producer cycles",
        () => dev.logs().filter((l) => l.msg === "cycle").length >= 3,
        15_000,
      );
    } finally {
      dev.proc.kill("SIGINT");
    }
    expect(await dev.exited).toBe(0);

    const logs = dev.logs();
    const published = logs.filter((l) => l.msg === "cycle").reduce((n, l) => n + Number(l.published), 0);
    const stopped = logs.find((l) => l.msg === "consumer stopped");
    const db = new Database(sqlitePath, { readonly: true });
    const { rows, demo } = db
      .query("select count(*) as rows, sum(source = 'demo') as demo from price_history")
      .get() as { rows: number; demo: number };
    db.close();
    // The backfill (a day at 10-minute steps) plus one new tick per cycle: all stored, all labelled demo.
    expect(rows).toBe(144 + published);
    expect(demo).toBe(rows);
    expect(Number(stopped?.written)).toBe(rows);
  }, 60_000);
});
