/** Where Kafka is and how to log in to it (Redpanda Cloud: several brokers, SASL SCRAM over TLS). */
export interface KafkaSettings {
  brokers: string[];
  topic: string;
  dlqTopic: string;
  group: string;
  clientId: string;
  /** How long the group waits for a silent consumer before handing its partitions to another. */
  sessionTimeoutMs: number;
  sasl: { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string } | null;
  ssl: boolean;
  caFile: string | null;
}
