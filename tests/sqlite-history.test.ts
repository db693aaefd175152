import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteHistory, SQLITE_SCHEMA_VERSION } from "../lib/adapters/sqlite/history.ts";
import { SinkError } from "../lib/errors.ts";
import { historyContract } from "./contracts/history-contract.ts";
import { makeTick } from "./support/ticks.ts";

const dir = mkdtempSync(join(tmpdir(), "belly-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

historyContract("SQLite (bun:sqlite)", async () => ({
  store: createSqliteHistory(join(dir, "contract", "history.sqlite")),
  async dispose() {},
}));

historyContract("SQLite (:memory:)", async () => ({
  store: createSqliteHistory(":memory:"),
  async dispose() {},
}));

describe("SQLite history file", () => {
  test("creates its directory and opens in WAL mode with a busy timeout", async () => {
    const path = join(dir, "nested", "deeper", "belly.sqlite");
    const history = createSqliteHistory(path);
    try {
      expect(existsSync(path)).toBe(true);
      expect(history.db.query("pragma journal_mode").get()).toEqual({ journal_mode: "wal" });
      expect(history.db.query("pragma busy_timeout").get()).toEqual({ timeout: 5000 });
      expect(history.db.query("pragma user_version").get()).toEqual({ user_version: SQLITE_SCHEMA_VERSION });
    } finally {
      await history.close();
    }
  });

  test("keeps every tick across close and reopen, and stays idempotent after it", async () => {
    const path = join(dir, "reopen.sqlite");
    const ticks = [makeTick({ price: 91_250.12 }, 0), makeTick({ price: 0.0712 }, 1)];
    const first = createSqliteHistory(path);
    expect(await first.upsert(ticks)).toEqual({ inserted: 2 });
    await first.close();

    const again = createSqliteHistory(path);
    try {
      expect(await again.recent("beldex", "usd")).toEqual([...ticks].reverse());
      expect(await again.upsert(ticks)).toEqual({ inserted: 0 });
    } finally {
      await again.close();
    }
  });

  test("shares one file between two connections: each tick is stored once, whoever writes it", async () => {
    const path = join(dir, "shared.sqlite");
    const [a, b] = [createSqliteHistory(path), createSqliteHistory(path)];
    try {
      const ticks = Array.from({ length: 50 }, (_, minute) => makeTick({}, minute));
      const results = await Promise.all([a.upsert(ticks.slice(0, 30)), b.upsert(ticks.slice(20))]);
      expect(results[0].inserted + results[1].inserted).toBe(50);
      expect(await b.range({ asset: "beldex", currency: "usd" })).toEqual(ticks);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("stores prices as doubles, so values that need all 17 digits come back identical", async () => {
    const history = createSqliteHistory(":memory:");
    try {
      const awkward = [0.1 + 0.2, 123456789.12345679, 5e-324, Number.MAX_VALUE, 1e21];
      await history.upsert(awkward.map((price, minute) => makeTick({ price }, minute)));
      const back = await history.range({ asset: "beldex", currency: "usd" });
      expect(back.map((tick) => tick.price)).toEqual(awkward);
      expect(history.db.query("select distinct typeof(price) as type from price_history").all()).toEqual([
        { type: "real" },
      ]);
    } finally {
      await history.close();
    }
  });

  test("writes a batch in one transaction: a bad row leaves none of the batch behind", async () => {
    const history = createSqliteHistory(":memory:");
    try {
      const bad = { ...makeTick({}, 1), price: -1 };
      const error = await history.upsert([makeTick({}, 0), bad]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SinkError);
      expect(await history.recent("beldex", "usd")).toEqual([]);
    } finally {
      await history.close();
    }
  });

  test("fails with a SinkError naming the file when it is not a database", async () => {
    const path = join(dir, "not-a-db.sqlite");
    await Bun.write(path, "this is not sqlite, just text that is long enough to fill a header. ".repeat(20));
    expect(() => createSqliteHistory(path)).toThrow(SinkError);
  });

  test("answers ping while open and throws a SinkError once closed", async () => {
    const history = createSqliteHistory(":memory:");
    await history.ping();
    await history.close();
    await history.close();
    await expect(history.ping()).rejects.toBeInstanceOf(SinkError);
  });
});
