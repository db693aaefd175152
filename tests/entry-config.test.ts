// What the entries say about settings before they touch any service: one line, exit code 2, no secret.
import { describe, expect, test } from "bun:test";
import { runEntry } from "./support/processes.ts";

describe("entry start-up checks", () => {
  test("the consumer refuses to write prices with only the public Supabase anon key", async () => {
    const run = await runEntry("consumer.ts", {
      KAFKA_BROKERS: "127.0.0.1:1",
      SUPABASE_URL: "https://project.supabase.co",
      SUPABASE_ANON_KEY: "public-anon-key-123",
    });
    expect(run.code).toBe(2);
    expect(run.lines).toHaveLength(1);
    expect(run.lines[0]).toMatch(/^config: SUPABASE_SERVICE_ROLE_KEY: .*anon key/);
    expect(run.lines[0]).not.toContain("public-anon-key-123");
  });

  test("producer.ts and consumer.ts name KAFKA_BROKERS when it is missing, and point at the one-process mode", async () => {
    for (const entry of ["producer.ts", "consumer.ts"]) {
      const run = await runEntry(entry, {});
      expect(run.code).toBe(2);
      expect(run.lines).toEqual([expect.stringMatching(/^config: KAFKA_BROKERS: expected .*bun run dev/)]);
    }
  });

  test("an Upstash URL without its token is refused with one line", async () => {
    const run = await runEntry("consumer.ts", {
      KAFKA_BROKERS: "127.0.0.1:1",
      REDIS_URL: "https://x.upstash.io",
    });
    expect(run.code).toBe(2);
    expect(run.lines).toEqual([expect.stringMatching(/^config: REDIS_TOKEN: expected/)]);
  });
});
