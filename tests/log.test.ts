import { describe, expect, test } from "bun:test";
import { createLogger, redact } from "../lib/log.ts";

describe("logger", () => {
  test("writes one JSON object per line with level, message and fields", () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (line) => lines.push(line), base: { svc: "producer" } });
    log.info("cycle", { published: 2 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      level: "info",
      msg: "cycle",
      svc: "producer",
      published: 2,
    });
  });

  test("drops lines below its level", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "warn", sink: (line) => lines.push(line) });
    log.info("quiet");
    log.debug("quieter");
    log.warn("loud");
    expect(lines).toHaveLength(1);
  });

  test("never prints a secret: by key, inside URLs, or anywhere in text", () => {
    const lines: string[] = [];
    const log = createLogger({ secrets: ["p4ssw0rd-xyz"], sink: (line) => lines.push(line) });
    log.error("failed", {
      password: "anything",
      url: "redis://default:other-secret@host:6379",
      error: "SASL failed for password p4ssw0rd-xyz",
      nested: { token: "abc" },
    });
    const line = lines[0] ?? "";
    expect(line).not.toContain("p4ssw0rd-xyz");
    expect(line).not.toContain("other-secret");
    expect(line).not.toContain('"abc"');
    expect(line).toContain("redis://***@host:6379");
  });

  test("redacts errors to their message", () => {
    expect(redact(new Error("bad key k-123456"), ["k-123456"])).toBe("bad key ***");
  });
});

describe("logger.redact", () => {
  test("hides known secrets and URL passwords in plain text meant for stderr", () => {
    const log = createLogger({ secrets: ["s3cret-value"], sink: () => {} });
    expect(log.redact("auth failed for s3cret-value at postgres://u:pw@h/db")).toBe(
      "auth failed for *** at postgres://***@h/db",
    );
  });
});
