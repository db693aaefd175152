#!/usr/bin/env bun
/**
 * Local stack CLI: Apache Kafka 4.1 (KRaft), Redis and Postgres on 127.0.0.1, state in `.stack/`.
 *
 *   bun run scripts/stack.ts up            start what is not running, write .stack/env.json
 *   bun run scripts/stack.ts down [--wipe] stop what the stack started; --wipe deletes data too
 *   bun run scripts/stack.ts status [--quiet]
 *                                          health of each service (exit 1 if any is down)
 *   bun run scripts/stack.ts env [--plaintext]
 *                                          shell export lines: eval "$(bun run scripts/stack.ts env)";
 *                                          Kafka over SASL_SSL+SCRAM by default, --plaintext for 19092
 *
 * BELLY_KAFKA_VERSION picks the Kafka release (4.1.2 by default, or 3.9.1). A second stack runs beside the
 * first with its own BELLY_STACK_DIR and a BELLY_STACK_PORT_OFFSET, added to every port (1000: Kafka on 20092).
 */
import { stackInfo } from "./stack/config.ts";
import { down, envExports, type Progress, status, up } from "./stack/index.ts";

const started = performance.now();
/** Progress goes to stderr so that `env` and `up` output on stdout stays machine-readable. */
const progress: Progress = (service, message) => {
  const at = ((performance.now() - started) / 1000).toFixed(1).padStart(5);
  process.stderr.write(`[${at}s] ${service}: ${message}\n`);
};

const usage = "usage: bun run scripts/stack.ts up | down [--wipe] | status [--quiet] | env [--plaintext]";

async function main(argv: string[]): Promise<number> {
  const [command, ...flags] = argv;
  switch (command) {
    case "up": {
      const { info, outcomes } = await up({ progress });
      for (const [name, outcome] of Object.entries(outcomes)) progress(name, outcome);
      progress(
        "stack",
        `up in ${((performance.now() - started) / 1000).toFixed(1)}s; settings in ${info.stateDir}/env.json`,
      );
      console.log(envExports(info));
      return 0;
    }
    case "down": {
      const unknown = flags.filter((flag) => flag !== "--wipe");
      if (unknown.length > 0) {
        console.error(usage);
        return 2;
      }
      await down({ progress, wipe: flags.includes("--wipe") });
      return 0;
    }
    case "status": {
      const all = await status();
      for (const s of flags.includes("--quiet") ? [] : all) {
        const owner = s.pid ? `pid ${s.pid}` : s.healthy ? "(not started by this stack)" : "";
        console.log(`${s.name.padEnd(9)} ${s.healthy ? "up  " : "DOWN"} ${owner.padEnd(28)} ${s.detail}`);
      }
      return all.every((s) => s.healthy) ? 0 : 1;
    }
    case "env":
      console.log(envExports(stackInfo(), { plaintext: flags.includes("--plaintext") }));
      return 0;
    default:
      console.error(usage);
      return 2;
  }
}

try {
  process.exitCode = await main(Bun.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
