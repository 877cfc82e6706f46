/**
 * Which certificate WebTransport presents and which hashes the page gets (docs/deploy.md "Certificates"), and the
 * rotation of signaling's own short-lived one before it expires: the next certificate is published in
 * `/config.json` first, presented to new connections a grace period later, and the old hash is listed until the old
 * certificate expires; open connections keep theirs (TLS is not redone), so no session drops.
 */
import "reflect-metadata"; // @peculiar/x509 needs the Reflect metadata polyfill
import * as x509 from "@peculiar/x509";
import type { Logger } from "@ballstream/runtime";
import { type CertificatePem, MAX_SELF_SIGNED_VALIDITY_MS, certificateHashBase64, certificateHashes, generateSelfSignedCertificate } from "./webtransport/mod.ts";

/** What the policy needs to know of a certificate (its leaf). */
export interface CertificateFacts {
  readonly pem: CertificatePem;
  /** Base64 SHA-256 of the leaf's DER, as `serverCertificateHashes` takes it. */
  readonly hash: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** An ECDSA P-256 key (what `serverCertificateHashes` requires, with the validity below). */
  readonly p256: boolean;
  /** Issuer = subject: no CA vouches for it. */
  readonly selfSigned: boolean;
}

/** Reads the facts of a PEM certificate chain's leaf. Throws on PEM without a certificate. */
export async function certificateFacts(pem: CertificatePem): Promise<CertificateFacts> {
  const block = pem.certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0];
  if (block === undefined) throw new TypeError("no PEM certificate found");
  const leaf = new x509.X509Certificate(block);
  const algorithm = leaf.publicKey.algorithm as { name?: string; namedCurve?: string };
  const [hash] = await certificateHashes(block);
  return {
    pem,
    hash: certificateHashBase64(hash as Uint8Array),
    notBeforeMs: leaf.notBefore.getTime(),
    notAfterMs: leaf.notAfter.getTime(),
    p256: algorithm.name === "ECDSA" && algorithm.namedCurve === "P-256",
    selfSigned: leaf.issuer === leaf.subject,
  };
}

/** Whether browsers accept `cert` through `serverCertificateHashes`: ECDSA P-256 and valid at most 14 days. */
export function acceptedByHash(cert: CertificateFacts): boolean {
  return cert.p256 && cert.notAfterMs - cert.notBeforeMs <= MAX_SELF_SIGNED_VALIDITY_MS;
}

/** `WT_CERTIFICATE`: `auto` (below), `tls` (the configured certificate, always) or `own` (signaling's own, always). */
export const WT_CERTIFICATE_MODES = ["auto", "tls", "own"] as const;

/** One of the {@link WT_CERTIFICATE_MODES}. */
export type WtCertificateMode = (typeof WT_CERTIFICATE_MODES)[number];

/**
 * What WebTransport presents: the configured certificate with its hash when browsers accept that hash; the configured
 * one without a hash when a CA issued it (browsers trust it as HTTPS does); signaling's own rotating one (with its
 * hash) when there is none, or the configured one is self-signed and not hash-eligible (a LAN's long-lived
 * self-signed certificate: with it, WebTransport failed with "Opening handshake failed" unless the browser trusted it).
 */
export function wtCertificateChoice(configured: CertificateFacts | undefined, mode: WtCertificateMode): "configured-hash" | "configured-ca" | "own" {
  if (configured === undefined || mode === "own") return "own";
  if (acceptedByHash(configured)) return "configured-hash";
  if (mode === "tls" || !configured.selfSigned) return "configured-ca";
  return "own";
}

/** Grace between publishing the next certificate's hash and presenting it: pages that loaded `/config.json` just before still connect. */
export function rotationGraceMs(validityMs: number): number {
  return Math.min(3_600_000, validityMs / 10);
}

/** When `cert` should be replaced: its next is published at half its life and presented {@link rotationGraceMs} later. */
export function rotationTimes(cert: Pick<CertificateFacts, "notBeforeMs" | "notAfterMs">): { publishAtMs: number; switchAtMs: number } {
  const validityMs = cert.notAfterMs - cert.notBeforeMs;
  const publishAtMs = cert.notBeforeMs + validityMs / 2;
  return { publishAtMs, switchAtMs: publishAtMs + rotationGraceMs(validityMs) };
}

/** Whether `cert` expires within min(1 day, a quarter of its validity) of `nowMs`: readiness then fails. */
export function expiresSoon(cert: Pick<CertificateFacts, "notBeforeMs" | "notAfterMs">, nowMs: number): boolean {
  const marginMs = Math.min(86_400_000, (cert.notAfterMs - cert.notBeforeMs) / 4);
  return cert.notAfterMs - nowMs <= marginMs;
}

/** What a rotator drives: the WebTransport server's certificate for new connections. */
export interface CertificateTarget {
  setCertificate(pem: CertificatePem): Promise<void>;
}

/** Signaling's own WebTransport certificate, replaced before it expires (see the module's comment). */
export class CertificateRotator {
  #presented: CertificateFacts;
  #next: CertificateFacts | undefined;
  /** Certificates presented before, listed until they expire (open connections may still use them). */
  #previous: CertificateFacts[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #validityMs: number;
  readonly #log: Logger;
  #target: CertificateTarget | undefined;

  private constructor(first: CertificateFacts, validityMs: number, log: Logger) {
    this.#presented = first;
    this.#validityMs = validityMs;
    this.#log = log;
  }

  /** Makes the first certificate (valid `validityMs`); {@link start} then keeps replacing it. */
  static async create(validityMs: number, log: Logger): Promise<CertificateRotator> {
    return new CertificateRotator(await certificateFacts(await generateSelfSignedCertificate(validityMs)), validityMs, log);
  }

  /** The certificate new connections get now. */
  get presented(): CertificateFacts {
    return this.#presented;
  }

  /** Hashes for `/config.json` at `nowMs`: the presented one, the next one once published, older ones until they expire. */
  hashes(nowMs = Date.now()): string[] {
    this.#previous = this.#previous.filter((c) => c.notAfterMs > nowMs);
    return [this.#presented, ...(this.#next ? [this.#next] : []), ...this.#previous].map((c) => c.hash);
  }

  /** Starts rotating the certificate `target` presents. */
  start(target: CertificateTarget): void {
    this.#target = target;
    this.#schedule();
  }

  /** Stops rotating. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    const { publishAtMs, switchAtMs } = rotationTimes(this.#presented);
    const at = this.#next === undefined ? publishAtMs : switchAtMs;
    this.#timer = setTimeout(() => void this.#step(), Math.max(0, at - Date.now()));
    this.#timer.unref?.();
  }

  async #step(): Promise<void> {
    try {
      if (this.#next === undefined) {
        this.#next = await certificateFacts(await generateSelfSignedCertificate(this.#validityMs));
        this.#log.info({ notAfter: new Date(this.#next.notAfterMs).toISOString() }, "next WebTransport certificate published");
      } else {
        await this.#target?.setCertificate(this.#next.pem);
        this.#previous.push(this.#presented);
        this.#presented = this.#next;
        this.#next = undefined;
        this.#log.info({ notAfter: new Date(this.#presented.notAfterMs).toISOString() }, "WebTransport certificate rotated");
      }
    } catch (err) {
      this.#log.error({ err }, "WebTransport certificate rotation failed; retrying in 60 s");
      this.#timer = setTimeout(() => void this.#step(), 60_000);
      this.#timer.unref?.();
      return;
    }
    this.#schedule();
  }
}
