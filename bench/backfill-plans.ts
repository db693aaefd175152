// How long `producer.ts --backfill 30d` of 3 pairs takes within each plan's calls per minute, measured with the
// real producer against the CoinGecko fake (which answers 429 past the same limit) and the local Kafka.
// Not part of `bun run bench` (the public plan's run waits a minute for its budget): `bun run bench/backfill-plans.ts`.
import { startFakeCoinGecko } from "../tests/support/fake-coingecko.ts";
import { runEntry } from "../tests/support/processes.ts";
import { createTestTopic, deleteTopics, useStack } from "../tests/support/stack.ts";

const PLANS = [
  { plan: "public", callsPerMinute: 5 },
  { plan: "demo", callsPerMinute: 30 },
] as const;
const KEY = "CG-bench-demo-key";

const stack = await useStack();
const topic = await createTestTopic("backfill-plans", 3);
const results = [];
try {
  for (const { plan, callsPerMinute } of PLANS) {
    const fake = await startFakeCoinGecko({
      callsPerMinute,
      ...(plan === "demo" ? { requireKey: { plan, key: KEY } } : {}),
    });
    try {
      const started = performance.now();
      const run = await runEntry(
        "producer.ts",
        {
          KAFKA_BROKERS: stack.kafka.plaintext,
          KAFKA_TOPIC: topic,
          COINGECKO_BASE_URL: fake.url,
          COINGECKO_PLAN: plan,
          ...(plan === "demo" ? { COINGECKO_API_KEY: KEY } : {}),
          ASSETS: "beldex,bitcoin,ethereum",
          VS_CURRENCIES: "usd",
          LOG_LEVEL: "info",
        },
        ["--backfill", "30d"],
      );
      const seconds = (performance.now() - started) / 1000;
      if (run.code !== 0) throw new Error(`${plan}: exited ${run.code}\n${run.lines.join("\n")}`);
      const done = run.lines.map((l) => JSON.parse(l)).find((l) => l.msg === "backfill done");
      const chartRequests = fake.requests.filter((r) => r.path.includes("/market_chart/range"));
      const times = chartRequests.map((r) => r.at - (chartRequests[0]?.at ?? 0));
      results.push({
        plan,
        callsPerMinute,
        requests: chartRequests.length,
        requestOffsetsS: times.map((t) => Math.round(t / 100) / 10),
        ticks: done?.ticks,
        backfillS: Math.round(done?.elapsedMs / 100) / 10,
        processS: Math.round(seconds * 10) / 10,
        fake: fake.rate,
      });
    } finally {
      await fake.stop();
    }
  }
} finally {
  await deleteTopics([topic, `${topic}.dlq`]);
}
console.log(JSON.stringify(results, null, 2));
