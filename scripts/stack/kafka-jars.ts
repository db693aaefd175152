import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KAFKA, type KafkaRelease, kafkaCacheDir } from "./config.ts";
import { run } from "./process.ts";
import { elapsed, type Progress } from "./wait.ts";

/** Pinned so that a fresh machine resolves the same plugin instead of "latest". */
const DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

/** Classes the stack runs; their absence means the resolved jar set is not usable. */
const REQUIRED_CLASSES = ["kafka/Kafka.class", "kafka/tools/StorageTool.class"];

/** Written last, so that a half-finished download is never mistaken for a complete one. */
const MARKER = ".complete";

/** A throwaway pom whose only purpose is to let Maven resolve the broker's runtime classpath. */
function runtimePom(release: KafkaRelease): string {
  const dep = (group: string, artifact: string, version: string) =>
    `<dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${version}</version></dependency>`;
  const [group = "", artifact = "", version = ""] = release.slf4jBinding.split(":");
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.belly-stream</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    ${dep("org.apache.kafka", "kafka_2.13", release.version)}
    ${dep(group, artifact, version)}
  </dependencies>
</project>
`;
}

/** Checks a class is in one of the jars; zip entry names are stored uncompressed, so a byte search is enough. */
function hasClass(libs: string, entry: string): boolean {
  const needle = Buffer.from(entry);
  return readdirSync(libs)
    .filter((name) => name.startsWith("kafka"))
    .some((name) => readFileSync(join(libs, name)).includes(needle));
}

/**
 * Returns the directory holding the jars of Kafka `release`, resolving them with Maven on first use.
 * Cached per version in {@link kafkaCacheDir} and shared by every checkout; a marker file tells a complete
 * download. Default: the stack's release.
 */
export async function ensureKafkaJars(progress: Progress, release: KafkaRelease = KAFKA): Promise<string> {
  const cache = kafkaCacheDir(release.version);
  const libs = join(cache, "libs");
  if (existsSync(join(cache, MARKER)) && existsSync(libs)) return libs;

  const start = performance.now();
  progress("kafka", `downloading jars for Kafka ${release.version} with Maven…`);
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "belly-kafka-pom-"));
  // Resolve into a sibling dir and rename, so a concurrent or interrupted run never sees a partial set.
  const staging = `${libs}.partial-${process.pid}`;
  try {
    writeFileSync(join(work, "pom.xml"), runtimePom(release));
    await run(
      [
        "mvn",
        "-q",
        "-B",
        `${DEPENDENCY_PLUGIN}:copy-dependencies`,
        "-DincludeScope=runtime",
        `-DoutputDirectory=${staging}`,
      ],
      { cwd: work, timeoutMs: 600_000 },
    );
    for (const entry of REQUIRED_CLASSES) {
      if (!hasClass(staging, entry))
        throw new Error(`Kafka jars resolved but ${entry} is missing in ${staging}`);
    }
    rmSync(libs, { recursive: true, force: true });
    renameSync(staging, libs);
    writeFileSync(join(cache, MARKER), `${new Date().toISOString()}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  }
  progress("kafka", `${readdirSync(libs).length} jars in ${libs} (${elapsed(start)})`);
  return libs;
}
