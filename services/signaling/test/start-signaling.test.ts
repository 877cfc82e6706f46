import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_SETTINGS, WT_PATH } from "@ballstream/protocol";
import { MemoryBus, createLogger, createRegistry } from "@ballstream/runtime";
import { freePort } from "@ballstream/testing";
import { type Signaling, startSignaling } from "../src/mod.ts";
import { certificateFacts } from "../src/wt-certificate.ts";
import { generateSelfSignedCertificate } from "../src/webtransport/mod.ts";

const log = createLogger("test", { level: "silent" });
const started: Signaling[] = [];
const dist = mkdtempSync(join(tmpdir(), "signaling-dist-"));
writeFileSync(join(dist, "index.html"), "<title>ballstream</title>");

async function start(bus = new MemoryBus(), config = {}): Promise<Signaling> {
  const s = await startSignaling({ bus, log, config: { httpPort: 0, wtPort: 0, webDist: dist, ...config } });
  started.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

describe("startSignaling", () => {
  test("serves the page, probes, config and metrics on real sockets", async () => {
    const s = await start();
    expect(s.httpUrl).toBe(`http://127.0.0.1:${s.httpPort}/`);
    const base = `http://127.0.0.1:${s.httpPort}/`;
    expect(await (await fetch(base)).text()).toContain("ballstream");
    expect((await fetch(`${base}healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}readyz`)).json()).toEqual({ ok: true, checks: { bus: true, webtransport: true, certificate: true } });
    const config = await (await fetch(`${base}config.json`)).json();
    expect(config).toEqual({ wtPort: s.wtPort, wtPath: WT_PATH, certificateHashes: [...s.certificateHashes], defaults: DEFAULT_SETTINGS });
    expect(s.certificateHashes).toHaveLength(1);
    expect(Buffer.from(s.certificateHashes[0]!, "base64")).toHaveLength(32);
    expect(s.sessionCount).toBe(0);
  });

  test("metrics only on their own listener (token-protected when asked), never on the page's port; security headers on the page", async () => {
    const s = await start(new MemoryBus(), { metrics: { host: "127.0.0.1", port: 0, token: "scrape-token" } });
    const base = `http://127.0.0.1:${s.httpPort}/`;
    const onPage = await fetch(`${base}metrics`);
    expect(await onPage.text()).not.toContain("ballstream_signaling");
    expect(onPage.headers.get("content-security-policy")).toContain(`connect-src 'self' https://127.0.0.1:${s.wtPort}`);
    expect(onPage.headers.get("x-content-type-options")).toBe("nosniff");
    expect(s.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect((await fetch(s.metricsUrl!)).status).toBe(401);
    const scraped = await (await fetch(s.metricsUrl!, { headers: { authorization: "Bearer scrape-token" } })).text();
    expect(scraped).toContain("ballstream_signaling_active_sessions");
    expect(scraped).toMatch(/^ballstream_signaling_quic_connections 0$/m);
    const port = new URL(s.metricsUrl!).port;
    await s.stop();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect((await start()).metricsUrl).toBeUndefined();
  });

  test("with a registry of its own, signaling's metrics land there and its listener serves that registry", async () => {
    const registry = createRegistry();
    const s = await startSignaling({ bus: new MemoryBus(), log, registry, config: { httpPort: 0, wtPort: 0, webDist: dist, metrics: { host: "127.0.0.1", port: 0, token: undefined } } });
    started.push(s);
    expect(await registry.metrics()).toContain("ballstream_signaling_active_sessions");
    const scraped = await (await fetch(s.metricsUrl!)).text();
    expect(scraped).toContain("ballstream_signaling_active_sessions");
  });

  test("readyz turns 503 when the bus closes", async () => {
    const bus = new MemoryBus();
    const s = await start(bus);
    await bus.drain();
    const r = await fetch(`http://127.0.0.1:${s.httpPort}/readyz`);
    expect(r.status).toBe(503);
    expect((await r.json()).checks.bus).toBe(false);
  });

  test("stop releases both ports and is idempotent", async () => {
    const s = await start();
    await Promise.all([s.stop(), s.stop()]);
    await expect(fetch(`http://127.0.0.1:${s.httpPort}/healthz`)).rejects.toThrow();
    const again = await start(new MemoryBus(), { httpPort: s.httpPort, wtPort: s.wtPort });
    expect(again.wtPort).toBe(s.wtPort);
  });

  test("HTTPS with a configured certificate that browsers accept by hash: WebTransport serves it and lists its hash; WT_CERTIFICATE=own: its own", async () => {
    const configured = await generateSelfSignedCertificate(); // P-256, 14 days: hash-eligible
    writeFileSync(join(dist, "cert.pem"), configured.certPem);
    writeFileSync(join(dist, "key.pem"), configured.keyPem);
    const tls = { certFile: join(dist, "cert.pem"), keyFile: join(dist, "key.pem") };
    const hash = (await certificateFacts(configured)).hash;
    const s = await start(new MemoryBus(), { tls });
    expect(s.httpUrl).toBe(`https://127.0.0.1:${s.httpPort}/`);
    expect(s.certificateHashes).toEqual([hash]);
    const r = await fetch(`${s.httpUrl}config.json`, { tls: { rejectUnauthorized: false } });
    expect((await r.json()).certificateHashes).toEqual([hash]);
    const own = await start(new MemoryBus(), { tls, wtCertificate: "own" });
    expect(own.certificateHashes).toHaveLength(1);
    expect(own.certificateHashes[0]).not.toBe(hash);
  });

  test("a taken WebTransport port fails the start and leaves nothing listening", async () => {
    const taken = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    const httpPort = await freePort();
    try {
      await expect(startSignaling({ bus: new MemoryBus(), log, config: { httpPort, wtPort: taken.port, webDist: dist } })).rejects.toThrow();
    } finally {
      taken.close();
    }
    await expect(fetch(`http://127.0.0.1:${httpPort}/healthz`)).rejects.toThrow();
  });
});

process.on("exit", () => rmSync(dist, { recursive: true, force: true }));
