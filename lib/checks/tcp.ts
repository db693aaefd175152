/**
 * "Is anything listening there?" — a bare TCP (or TLS) connection, opened and closed, so that an unreachable
 * host is told apart from a server that answers but refuses our credentials.
 */
import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/** Where to connect and how. */
export interface TcpTarget {
  host: string;
  port: number;
  /** Do a TLS handshake after connecting (verifying the certificate against `ca` or the system roots). */
  tls?: boolean;
  /** PEM text of the CA to trust, for self-signed brokers. */
  ca?: string;
}

/** Why a probe failed, in the words a user acts on. */
export type TcpFailure =
  | "dns"
  | "refused"
  | "timeout"
  | "tls-untrusted"
  | "tls-name"
  | "tls-handshake"
  | "other";

/** The result of {@link probeTcp}. */
export type TcpProbe =
  | { ok: true; address: string }
  | { ok: false; address: string; kind: TcpFailure; detail: string };

/**
 * Connects to `host:port` (and shakes hands when `tls`), then hangs up. Never throws.
 * @example await probeTcp({ host: "127.0.0.1", port: 6379 }, 5000) // { ok: true, address: "127.0.0.1:6379" }
 */
export function probeTcp(target: TcpTarget, timeoutMs: number): Promise<TcpProbe> {
  const address = `${target.host}:${target.port}`;
  return new Promise((resolve) => {
    let socket: Socket | undefined;
    let settled = false;
    const finish = (probe: TcpProbe) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.destroy();
      resolve(probe);
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          address,
          kind: "timeout",
          detail: target.tls
            ? `no TCP connection or TLS handshake within ${timeoutMs / 1000} s`
            : `no TCP connection within ${timeoutMs / 1000} s`,
        }),
      timeoutMs,
    );
    const onError = (error: NodeJS.ErrnoException) =>
      finish({ ok: false, address, kind: classify(error), detail: error.message });
    try {
      socket = target.tls
        ? tlsConnect({
            host: target.host,
            port: target.port,
            ca: target.ca ? [target.ca] : undefined,
            // SNI must not carry an IP address; certificate names are still checked against it.
            servername: isIP(target.host) ? undefined : target.host,
          })
        : netConnect({ host: target.host, port: target.port });
      socket.once("error", onError);
      socket.once(target.tls ? "secureConnect" : "connect", () => finish({ ok: true, address }));
    } catch (error) {
      onError(error as NodeJS.ErrnoException);
    }
  });
}

function classify(error: NodeJS.ErrnoException): TcpFailure {
  const code = String(error.code ?? "");
  const text = `${code} ${error.message}`;
  if (/ENOTFOUND|EAI_AGAIN|EAI_NONAME/.test(text)) return "dns";
  if (/ECONNREFUSED/.test(text)) return "refused";
  if (/ETIMEDOUT/.test(text)) return "timeout";
  if (/ALTNAME|altnames|hostname/i.test(text)) return "tls-name";
  if (/SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|CERT_|certificate/i.test(text)) return "tls-untrusted";
  if (/SSL|TLS|EPROTO|wrong version|handshake/i.test(text)) return "tls-handshake";
  return "other";
}

/**
 * Splits a KAFKA_BROKERS entry "host:port" (config only lets host names and IPv4 through).
 * @example splitHostPort("broker-1:9092") // { host: "broker-1", port: 9092 }
 */
export function splitHostPort(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(":");
  return { host: value.slice(0, at), port: Number(value.slice(at + 1)) };
}
