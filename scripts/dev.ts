// `bash scripts/run.sh [--demo]`: the whole pipeline on this machine with embedded defaults. Brings up the local
// stack (Kafka, Redis, Postgres), migrates, then runs consumer.ts and producer.ts until Ctrl-C.
// --demo serves a built-in CoinGecko fake (for machines without internet); its prices are not real.
import { migratePostgres } from "../lib/history/postgres.ts";
import { startFakeCoinGecko } from "../lib/source/fake-coingecko.ts";
import { startStack } from "./stack/index.ts";

const demo = process.argv.includes("--demo");
const stack = await startStack({ log: (line) => console.log(`stack: ${line}`) });
await migratePostgres(stack.databaseUrl);
const fake = demo ? await startFakeCoinGecko({ auto: { intervalMs: 5_000 } }) : null;

const env: Record<string, string> = {
  KAFKA_BROKERS: stack.kafka.plaintext,
  DATABASE_URL: stack.databaseUrl,
  REDIS_URL: stack.redisUrl,
  FETCH_INTERVAL: demo ? "10" : "60",
  ...(fake
    ? { COINGECKO_BASE_URL: fake.url, ASSETS: "beldex,bitcoin,ethereum", VS_CURRENCIES: "usd,eur" }
    : {}),
  ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
};
if (fake) console.log(`demo: serving fake CoinGecko prices (not real) at ${fake.url}`);

const children = ["consumer.ts", "producer.ts"].map((file) =>
  Bun.spawn([process.execPath, "run", file], { env, stdout: "inherit", stderr: "inherit", stdin: "ignore" }),
);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
const codes = await Promise.all(children.map((child) => child.exited));
stop();
await fake?.stop();
console.log("stopped; the stack keeps running (bun run scripts/stack.ts down stops it)");
process.exit(codes.every((code) => code === 0 || code === 143) ? 0 : 1);
