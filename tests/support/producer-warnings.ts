// Prints, as one JSON object, the kafkajs warnings logged while our publisher builds its producer, and those
// of a producer built with the options it had before. Run in a process of its own: kafkajs warns about its
// default partitioner once per process, so that any producer built before would hide the warning.

import { createKafka } from "../../lib/adapters/kafka/client.ts";
import { createKafkaPublisher } from "../../lib/adapters/kafka/publisher.ts";
import { createLogger } from "../../lib/log.ts";
import { OFFLINE_KAFKA } from "./kafka-settings.ts";

const config = OFFLINE_KAFKA;

const records: Record<string, unknown>[] = [];
const log = createLogger({ level: "debug", sink: (line) => records.push(JSON.parse(line)) });
const warnings = () => records.splice(0).flatMap((r) => (r.kafkajsLevel === "warn" ? [String(r.msg)] : []));

const kafka = createKafka(config, log);
// The async function builds its producer (when kafkajs warns) before its first await, the connect, whose
// failure (nothing listens on port 1) does not matter here.
void createKafkaPublisher(kafka, config).catch(() => {});
const ours = warnings();
kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
const before = warnings();
process.stdout.write(`${JSON.stringify({ ours, before })}\n`);
process.exit(0);
