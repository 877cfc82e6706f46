/** What the page derives from the server's ClientConfig to open WebTransport. */
import type { ClientConfig } from "@ballstream/protocol";

/**
 * `https://<hostname>:<wtPort><wtPath>`; IPv6 literals are bracketed. `localhost` becomes `127.0.0.1`: Chromium
 * tries `::1` first for QUIC and does not fall back (QUIC_PACKET_WRITE_ERROR), while the server listens on IPv4
 * loopback by default.
 */
export function webTransportUrl(config: ClientConfig, hostname: string): string {
  return `https://${urlHost(hostname)}:${config.wtPort}${config.wtPath}`;
}

function urlHost(hostname: string): string {
  if (hostname === "localhost") return "127.0.0.1";
  return hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
}

/** Bytes of a base64 string. Throws on invalid base64. */
export function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** WebTransport options: `serverCertificateHashes` (SHA-256) when the server lists any, else none. */
export function webTransportOptions(config: ClientConfig): WebTransportOptions {
  if (config.certificateHashes.length === 0) return {};
  return { serverCertificateHashes: config.certificateHashes.map((h) => ({ algorithm: "sha-256", value: base64ToBytes(h) })) };
}
