// supabase/ is the folder `supabase init` makes (config.toml from CLI 3.1.0's init), so `supabase db push`,
// `db reset` and `start` work on it: the settings the project relies on are read here from the file itself.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const SUPABASE = join(import.meta.dir, "../supabase");

interface SupabaseConfig {
  project_id: string;
  api: { enabled: boolean; schemas: string[]; max_rows: number };
  db: {
    port: number;
    major_version: number;
    migrations: { enabled: boolean; schema_paths: string[] };
    seed: { enabled: boolean; sql_paths: string[] };
  };
  realtime: { enabled: boolean };
  studio: { enabled: boolean };
  auth: { enabled: boolean; site_url: string };
}

const config = Bun.TOML.parse(readFileSync(join(SUPABASE, "config.toml"), "utf8")) as SupabaseConfig;

describe("supabase/config.toml", () => {
  test("names the project and targets Postgres 17, a new Supabase project's major version", () => {
    expect(config.project_id).toBe("belly-stream");
    expect(config.db.major_version).toBe(17);
    expect(config.db.port).toBe(54322);
  });

  test("runs supabase/migrations, not declarative schemas, and seeds from files that exist", () => {
    expect(config.db.migrations).toEqual({ enabled: true, schema_paths: [] });
    expect(config.db.seed.enabled).toBe(true);
    expect(config.db.seed.sql_paths).toEqual(["./seed.sql"]);
    for (const path of config.db.seed.sql_paths) expect(existsSync(join(SUPABASE, path))).toBe(true);
  });

  test("serves price_history over the Data API with the 1000-row cap the Supabase adapter pages past", () => {
    // lib/adapters/supabase/history.ts asks for 1000 rows a page; a lower cap would end its reads early.
    expect(config.api.enabled).toBe(true);
    expect(config.api.schemas).toContain("public");
    expect(config.api.max_rows).toBe(1000);
  });

  test("runs Realtime, Studio and Auth locally (the anon key and its RLS need Auth's roles)", () => {
    expect(config.realtime.enabled).toBe(true);
    expect(config.studio.enabled).toBe(true);
    expect(config.auth.enabled).toBe(true);
  });

  test("keeps the CLI's scratch folders out of git, as `supabase init` does", () => {
    const ignored = readFileSync(join(SUPABASE, ".gitignore"), "utf8").split("\n");
    expect(ignored).toContain(".temp");
    expect(ignored).toContain(".branches");
  });
});
