/** What the page derives from the server's ClientConfig to open WebTransport. */
import type { ClientConfig } from "@ballstream/shared/wt-protocol";

/** `https://<hostname>:<wtPort><wtPath>`; IPv6 literals are bracketed. */
export function webTransportUrl(config: ClientConfig, hostname: string): string {
  const host = hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
  return `https://${host}:${config.wtPort}${config.wtPath}`;
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
