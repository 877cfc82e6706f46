/**
 * TLS certificates for the server: a short-lived self-signed ECDSA P-256 certificate that browsers accept through
 * `serverCertificateHashes` (no CA, no flags), and the SHA-256 hashes pages pass to `new WebTransport()`.
 */
import "reflect-metadata"; // @peculiar/x509 needs the Reflect metadata polyfill
import * as x509 from "@peculiar/x509";
import type { CertificatePem } from "./types.ts";

/** Browsers reject `serverCertificateHashes` certificates valid longer than 14 days. */
export const MAX_SELF_SIGNED_VALIDITY_MS = 14 * 24 * 3600 * 1000;

/**
 * Generates a self-signed ECDSA P-256 certificate for `localhost`/127.0.0.1/::1, valid for `validityMs` from a little
 * before now (a minute, or a tenth of a short validity), so clocks slightly behind still accept it.
 */
export async function generateSelfSignedCertificate(validityMs = MAX_SELF_SIGNED_VALIDITY_MS - 120_000): Promise<CertificatePem> {
  if (!(validityMs > 0 && validityMs <= MAX_SELF_SIGNED_VALIDITY_MS - 60_000)) {
    throw new RangeError(`certificate validity must be in (0, 14 days - 1 min], got ${validityMs} ms`);
  }
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const notBefore = new Date(Date.now() - Math.min(60_000, validityMs / 10));
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex").replace(/^[89a-f]/, "1"),
      name: "CN=ballstream",
      notBefore,
      notAfter: new Date(notBefore.getTime() + validityMs),
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      keys,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: "dns", value: "localhost" },
          { type: "ip", value: "127.0.0.1" },
          { type: "ip", value: "::1" },
        ]),
        new x509.BasicConstraintsExtension(false),
      ],
    },
    crypto,
  );
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { certPem: cert.toString("pem"), keyPem: toPem("PRIVATE KEY", pkcs8) };
}

/** SHA-256 of the DER of every certificate in a PEM chain (leaf first). Throws on PEM without a certificate. */
export async function certificateHashes(certPem: string): Promise<Uint8Array[]> {
  const blocks = certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw new TypeError("no PEM certificate found");
  return Promise.all(
    blocks.map(async (block) => new Uint8Array(await crypto.subtle.digest("SHA-256", new x509.X509Certificate(block).rawData))),
  );
}

/** The base64 text of a certificate hash, as a page decodes it for `serverCertificateHashes[].value`. */
export function certificateHashBase64(hash: Uint8Array): string {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString("base64");
}

function toPem(label: string, der: Uint8Array): string {
  const body = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
