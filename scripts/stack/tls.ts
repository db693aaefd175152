import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./process.ts";

/** Password of the broker keystore; the key only ever protects a loopback test broker. */
export const KEYSTORE_PASSWORD = "belly-keystore";

/** Files of the broker's TLS material. */
export interface TlsFiles {
  /** PEM of the CA: what clients trust (KAFKA_CA_FILE). */
  caFile: string;
  /** PKCS12 keystore holding the broker key, its certificate and the CA. */
  keystore: string;
}

/** The TLS files kept in `dir`, whether they exist yet or not. */
export function tlsFiles(dir: string): TlsFiles {
  return { caFile: join(dir, "ca.pem"), keystore: join(dir, "broker.p12") };
}

/**
 * Creates, once per directory, a local CA and a broker certificate for 127.0.0.1 and localhost.
 * A separate CA (rather than one self-signed leaf) is what TLS clients expect in their `ca` list.
 */
export async function ensureTls(dir: string): Promise<TlsFiles> {
  const files = tlsFiles(dir);
  if (existsSync(files.caFile) && existsSync(files.keystore)) return files;

  // Built aside and renamed, so an interrupted run never leaves a CA without its keystore.
  const work = `${dir}.partial-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // Every argument is free of spaces, so each command reads as one line.
  const openssl = (command: string) =>
    run(["openssl", ...command.split(/\s+/).filter(Boolean)], { cwd: work });
  try {
    await openssl(`req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.pem
      -subj /CN=belly-stream-local-CA
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign`);
    await openssl("req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj /CN=localhost");
    writeFileSync(
      join(work, "broker.ext"),
      [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "",
      ].join("\n"),
    );
    await openssl(`x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256
      -extfile broker.ext -out broker.pem`);
    await openssl(`pkcs12 -export -name broker -in broker.pem -inkey broker.key -certfile ca.pem
      -out broker.p12 -passout pass:${KEYSTORE_PASSWORD}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return files;
}
