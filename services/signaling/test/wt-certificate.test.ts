import { describe, expect, test } from "bun:test";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createLogger } from "@ballstream/runtime";
import { generateSelfSignedCertificate } from "../src/webtransport/mod.ts";
import { type CertificateFacts, CertificateRotator, acceptedByHash, certificateFacts, expiresSoon, rotationGraceMs, rotationTimes, wtCertificateChoice } from "../src/wt-certificate.ts";

const log = createLogger("test", { level: "silent" });
const DAY = 86_400_000;

/** Facts with the given validity and key, for the pure rules. */
const facts = (days: number, p256 = true, selfSigned = true): CertificateFacts => ({
  pem: { certPem: "", keyPem: "" },
  hash: "h",
  notBeforeMs: 0,
  notAfterMs: days * DAY,
  p256,
  selfSigned,
});

/** A self-signed certificate made with x509 directly: RSA or long-lived, which our generator refuses to make. */
async function otherCertificate(days: number, algorithm: "rsa" | "p256") {
  const alg = algorithm === "rsa" ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } : { name: "ECDSA", namedCurve: "P-256" };
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=lan",
    notBefore: new Date(),
    notAfter: new Date(Date.now() + days * DAY),
    signingAlgorithm: algorithm === "rsa" ? alg : { name: "ECDSA", hash: "SHA-256" },
    keys,
  });
  return { certPem: cert.toString("pem"), keyPem: "" };
}

describe("certificate facts and the choice", () => {
  test("our own certificate: P-256, self-signed, 14 days less 2 min, hash-eligible; its hash is its DER's SHA-256", async () => {
    const f = await certificateFacts(await generateSelfSignedCertificate());
    expect([f.p256, f.selfSigned, acceptedByHash(f)]).toEqual([true, true, true]);
    expect(f.notAfterMs - f.notBeforeMs).toBe(14 * DAY - 120_000);
    expect(Buffer.from(f.hash, "base64")).toHaveLength(32);
  });

  test("an RSA or a 30-day certificate is not accepted by hash", async () => {
    expect(acceptedByHash(await certificateFacts(await otherCertificate(7, "rsa")))).toBe(false);
    const long = await certificateFacts(await otherCertificate(30, "p256"));
    expect([long.p256, long.selfSigned, acceptedByHash(long)]).toEqual([true, true, false]);
    await expect(certificateFacts({ certPem: "nothing", keyPem: "" })).rejects.toThrow(/no PEM/);
  });

  test("the choice: own without one; the configured one by hash when eligible; a CA's as is; a long self-signed one: our own", () => {
    expect(wtCertificateChoice(undefined, "auto")).toBe("own");
    expect(wtCertificateChoice(undefined, "tls")).toBe("own");
    expect(wtCertificateChoice(facts(14), "auto")).toBe("configured-hash");
    expect(wtCertificateChoice(facts(14), "own")).toBe("own");
    expect(wtCertificateChoice(facts(90, true, false), "auto")).toBe("configured-ca");
    expect(wtCertificateChoice(facts(365, false, true), "auto")).toBe("own");
    expect(wtCertificateChoice(facts(365, false, true), "tls")).toBe("configured-ca");
  });
});

describe("rotation rules", () => {
  test("publish at half life, switch a grace later (a tenth of the life, at most an hour)", () => {
    expect(rotationGraceMs(14 * DAY)).toBe(3_600_000);
    expect(rotationGraceMs(20_000)).toBe(2000);
    expect(rotationTimes(facts(14))).toEqual({ publishAtMs: 7 * DAY, switchAtMs: 7 * DAY + 3_600_000 });
    expect(rotationTimes({ notBeforeMs: 1000, notAfterMs: 21_000 })).toEqual({ publishAtMs: 11_000, switchAtMs: 13_000 });
  });

  test("expires soon within a day, or a quarter of a short life", () => {
    expect(expiresSoon(facts(14), 13 * DAY - 1)).toBe(false);
    expect(expiresSoon(facts(14), 13 * DAY)).toBe(true);
    expect(expiresSoon({ notBeforeMs: 0, notAfterMs: 20_000 }, 14_999)).toBe(false);
    expect(expiresSoon({ notBeforeMs: 0, notAfterMs: 20_000 }, 15_000)).toBe(true);
  });
});

describe("CertificateRotator", () => {
  test("publishes the next hash, then presents it (old hash listed until it expires), and so on", async () => {
    const rotator = await CertificateRotator.create(4000, log); // backdated 0.4 s: publish at 1.6 s, switch at 2 s, expiry at 3.6 s
    const presented: string[] = [];
    rotator.start({ setCertificate: async (pem) => void presented.push((await certificateFacts(pem)).hash) });
    try {
      const first = rotator.presented.hash;
      expect(rotator.hashes()).toEqual([first]);
      let seen: string[] = [];
      for (let i = 0; i < 200 && seen.length < 2; i++, await Bun.sleep(20)) seen = rotator.hashes();
      expect(seen[0]).toBe(first); // published, not yet presented
      const next = seen[1]!;
      for (let i = 0; i < 200 && rotator.presented.hash === first; i++) await Bun.sleep(20);
      expect(presented).toEqual([next]);
      expect(rotator.hashes()).toEqual([next, first]); // the old one until it expires
      for (let i = 0; i < 200 && rotator.hashes().includes(first); i++) await Bun.sleep(20);
      expect(rotator.hashes()).not.toContain(first);
      expect(rotator.hashes()[0]).toBe(rotator.presented.hash);
    } finally {
      rotator.stop();
    }
  });

  test("a target that refuses the certificate keeps the old one presented (retried later)", async () => {
    const rotator = await CertificateRotator.create(1000, log);
    rotator.start({ setCertificate: () => Promise.reject(new Error("bad pair")) });
    const first = rotator.presented.hash;
    await Bun.sleep(900);
    expect(rotator.presented.hash).toBe(first);
    rotator.stop();
  });
});
