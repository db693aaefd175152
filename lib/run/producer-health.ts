/** The producer's liveness, as its tiny health server reports it. */
export interface ProducerHealth {
  /** Call after every successful cycle. */
  succeeded(): void;
  /** Whether the last success (or the start) is recent enough. */
  healthy(): boolean;
  stop(): void;
}

/**
 * Serves GET /healthz for the producer (Fly's machine check): 200 while a cycle succeeded within
 * 2 x FETCH_INTERVAL plus `graceMs` (or the process is younger than that), 503 once the loop is stuck.
 * @example const health = serveProducerHealth({ port: 8080, intervalMs: 600_000, graceMs: 10_000 });
 */
export function serveProducerHealth(options: {
  port: number;
  hostname?: string;
  intervalMs: number;
  graceMs: number;
  now?: () => number;
}): ProducerHealth {
  const now = options.now ?? Date.now;
  let last = now();
  const healthy = () => now() - last <= 2 * options.intervalMs + options.graceMs;
  const server = Bun.serve({
    port: options.port,
    hostname: options.hostname ?? "0.0.0.0",
    fetch(request) {
      if (new URL(request.url).pathname !== "/healthz") return new Response("not found\n", { status: 404 });
      const ageS = Math.round((now() - last) / 1000);
      return healthy()
        ? Response.json({ status: "ok", lastSuccessAgeS: ageS })
        : Response.json({ status: "stale", lastSuccessAgeS: ageS }, { status: 503 });
    },
  });
  return {
    succeeded: () => {
      last = now();
    },
    healthy,
    stop: () => void server.stop(true),
  };
}
