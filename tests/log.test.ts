import { describe, expect, test } from "bun:test";
import { createLogger, redact, redactText } from "../lib/log.ts";

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

describe("redaction by value", () => {
  // The local stacks' database password is "belly", which is also a part of the topic, the client id and more.
  const secrets = ["belly"];

  test("names that merely contain a short password stay readable", () => {
    const text =
      'published 6 ticks to belly-price (dead letters: belly-price.dlq) as client belly-stream, group belly_consumers, host db.belly.internal, "bellyache"';
    expect(redactText(text, secrets)).toBe(text);
  });

  test("the password is hidden wherever it stands as a value", () => {
    expect(redactText("postgres://belly:belly@h/db", secrets)).toBe("postgres://***@h/db");
    expect(redactText("password=belly&sslmode=require", secrets)).toBe("password=***&sslmode=require");
    expect(redactText("Authorization: belly", secrets)).toBe("Authorization: ***");
    expect(redactText('{"pw":"belly"}', secrets)).toBe('{"pw":"***"}');
    expect(redactText("auth failed for belly", secrets)).toBe("auth failed for ***");
    expect(redactText("belly, then (belly) and belly.", secrets)).toBe("***, then (***) and ***.");
    expect(redactText("key belly\tat /belly", secrets)).toBe("key ***\tat /***");
  });

  test("a name that is exactly the password is hidden too: text alone cannot tell them apart", () => {
    // A Kafka user "belly" next to a password "belly" gives the password away; the doctor, which names users
    // on purpose, leaves such a password out of its secrets (maskedSecrets).
    expect(redactText('Kafka rejected the credentials of user "belly" on belly-price', secrets)).toBe(
      'Kafka rejected the credentials of user "***" on belly-price',
    );
  });

  test("the logger keeps names and hides the password in fields and messages alike", () => {
    const lines: string[] = [];
    const log = createLogger({ secrets, sink: (line) => lines.push(line) });
    log.warn("publish to belly-price failed", {
      clientId: "belly-stream",
      url: "postgres://belly:belly@127.0.0.1:15432/app",
      error: "password authentication failed: belly",
      password: "belly",
    });
    const record = JSON.parse(lines[0] ?? "");
    expect(record).toMatchObject({
      msg: "publish to belly-price failed",
      clientId: "belly-stream",
      url: "postgres://***@127.0.0.1:15432/app",
      error: "password authentication failed: ***",
      password: "***",
    });
  });

  test("a secret that is a token of a longer one leaves nothing of the longer one behind", () => {
    expect(redactText("token abcd:efgh", ["abcd", "abcd:efgh"])).toBe("token ***");
  });

  test("a secret with punctuation at its edge is hidden even next to letters", () => {
    expect(redactText("sent x!!k3y to the api", ["!!k3y"])).toBe("sent x*** to the api");
  });
});
