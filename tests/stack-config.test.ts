// The stack's choices that need no server: ports with an offset, the Kafka release, and what each release's
// broker is started with (log4j 1 or 2, jar cache, the version its data was formatted by).
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BASE_PORTS,
  kafkaCacheDir,
  kafkaRelease,
  PORTS,
  stackInfo,
  stackPorts,
} from "../scripts/stack/config.ts";
import { up } from "../scripts/stack/index.ts";
import { formattedVersion, java, layout, logConfig, runningVersion } from "../scripts/stack/kafka.ts";

describe("stack ports", () => {
  test("are the base ports with no offset, and each shifted by BELLY_STACK_PORT_OFFSET", () => {
    expect(stackPorts({})).toEqual(BASE_PORTS);
    expect(stackPorts({ BELLY_STACK_PORT_OFFSET: "" })).toEqual(BASE_PORTS);
    expect(stackPorts({ BELLY_STACK_PORT_OFFSET: "1000" })).toEqual({
      kafkaPlaintext: 20092,
      kafkaSaslSsl: 20093,
      kafkaController: 20094,
      redis: 17379,
      postgres: 16432,
    });
    expect(stackPorts({ BELLY_STACK_PORT_OFFSET: "-100" }).redis).toBe(16279);
  });

  test.each(["abc", "1.5", "1e3", "10 0", "46442", "-14409", "999999"])(
    "refuse the offset %p, which is no integer or puts a port outside 1024-65535",
    (offset) => {
      expect(() => stackPorts({ BELLY_STACK_PORT_OFFSET: offset })).toThrow(/BELLY_STACK_PORT_OFFSET/);
    },
  );

  test("take the largest offsets that keep every port in range", () => {
    expect(stackPorts({ BELLY_STACK_PORT_OFFSET: "46441" }).kafkaController).toBe(65_535);
    expect(stackPorts({ BELLY_STACK_PORT_OFFSET: "-14408" }).postgres).toBe(1024);
  });
});

describe("Kafka release", () => {
  test("is 4.1.x by default, on log4j 2; 3.9.1 stays selectable, on log4j 1", () => {
    const current = kafkaRelease({});
    expect(current.version).toMatch(/^4\.1\.\d+$/);
    expect(current.log4j).toBe(2);
    expect(current.slf4jBinding).toStartWith("org.apache.logging.log4j:log4j-slf4j-impl:");
    const old = kafkaRelease({ BELLY_KAFKA_VERSION: "3.9.1" });
    expect(old).toEqual({ version: "3.9.1", log4j: 1, slf4jBinding: "org.slf4j:slf4j-reload4j:1.7.36" });
  });

  test("refuses a version the stack has no binding for, naming the ones it has", () => {
    expect(() => kafkaRelease({ BELLY_KAFKA_VERSION: "4.0.0" })).toThrow(/4\.0\.0 .*3\.9\.1/);
  });

  test("keeps each version's jars in a folder of its own", () => {
    expect(kafkaCacheDir("3.9.1")).toEndWith("/belly-stream/kafka-3.9.1");
    expect(kafkaCacheDir("4.1.2")).toEndWith("/belly-stream/kafka-4.1.2");
  });
});

describe("broker start-up per release", () => {
  const k4 = layout("/state", kafkaRelease({ BELLY_KAFKA_VERSION: "4.1.2" }));
  const k3 = layout("/state", kafkaRelease({ BELLY_KAFKA_VERSION: "3.9.1" }));

  test("Kafka 4 gets a log4j 2 file by log4j2.configurationFile, Kafka 3 a log4j 1 file", () => {
    expect(java("/libs", k4, "kafka.Kafka", [])).toContain(
      "-Dlog4j2.configurationFile=/state/kafka/log4j2.properties",
    );
    expect(java("/libs", k3, "kafka.Kafka", [])).toContain(
      "-Dlog4j.configuration=file:/state/kafka/log4j.properties",
    );
    const v2 = logConfig(k4);
    expect(v2).toContain("appender.file.type = RollingFile");
    expect(v2).toContain(`appender.file.fileName = ${k4.serverLog}`);
    expect(v2).toContain("logger.q0.name = kafka.request.logger\nlogger.q0.level = WARN");
    expect(v2).not.toContain("log4j.appender");
    const v1 = logConfig(k3);
    expect(v1).toContain("log4j.appender.file=org.apache.log4j.RollingFileAppender");
    expect(v1).toContain("log4j.logger.kafka.request.logger=WARN");
  });

  test("data remembers the release that formatted it; data from before that came from 3.9.1", () => {
    const dir = mkdtempSync(join(tmpdir(), "belly-stack-config-"));
    try {
      const paths = layout(dir, kafkaRelease({ BELLY_KAFKA_VERSION: "4.1.2" }));
      expect(formattedVersion(paths)).toBeUndefined();
      mkdirSync(paths.data, { recursive: true });
      writeFileSync(join(paths.data, "meta.properties"), "version=1\n");
      expect(formattedVersion(paths)).toBe("3.9.1");
      writeFileSync(paths.dataVersion, "4.1.2\n");
      expect(formattedVersion(paths)).toBe("4.1.2");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a running process tells its Kafka version by the jar folder on its command line", async () => {
    // bash keeps its arguments on its command line, as java keeps `-cp …/kafka-<version>/libs/*`. Not a lone
    // `sleep 10`: bash would exec it in its own place, and its command line with it (1 run in a few failed so).
    const proc = Bun.spawn([
      "bash",
      "-c",
      "sleep 10 & wait",
      "-cp",
      "/cache/belly-stream/kafka-9.8.7/libs/*",
    ]);
    try {
      // Until the child has exec'd, /proc shows the parent's command line: wait for bash's own (at most 5 s).
      for (let i = 0; i < 100 && !readFileSync(`/proc/${proc.pid}/cmdline`, "utf8").startsWith("bash"); i++)
        await Bun.sleep(50);
      expect(runningVersion(proc.pid)).toBe("9.8.7");
    } finally {
      proc.kill();
      await proc.exited;
    }
    expect(runningVersion(process.pid)).toBeUndefined();
    expect(runningVersion(2 ** 30)).toBeUndefined();
  });
});

describe("a state dir", () => {
  test("is not brought up on other ports than the ones its stack runs on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "belly-stack-ports-"));
    try {
      // One port above this process's own, whatever offset it runs with, so that the two never agree.
      const elsewhere = stackInfo(dir);
      const port = PORTS.kafkaPlaintext + 1;
      elsewhere.kafka.plaintext = `127.0.0.1:${port}`;
      writeFileSync(join(dir, "env.json"), JSON.stringify(elsewhere));
      // Refused under the lock, before any service is looked at or started.
      await expect(up({ stateDir: dir })).rejects.toThrow(
        `BELLY_STACK_PORT_OFFSET=${port - BASE_PORTS.kafkaPlaintext} bun run scripts/stack.ts down`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
