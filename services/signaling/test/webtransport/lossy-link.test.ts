/**
 * The server behind an emulated lossy link on its UDP socket (10 % loss each way, 10 ms delay out, jitter with
 * reordering in), against real Chromium: the handshake and the session still come up, a 256 KiB bidi echo arrives
 * intact (QUIC retransmits), datagrams still flow (some lost, none retried), and the link did drop packets.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type LinkPair, createLinkPair, createLogger } from "@ballstream/runtime";
import { admission, allowOrigins, certificateHashBase64, createWebTransportServer, onPaths, type WebTransportServer } from "../../src/webtransport/mod.ts";
import { iterate } from "./iterate.ts";
import { type BrowserPage, openBrowserPage } from "./browser.ts";

const log = createLogger("wt-test", { level: "warn", pretty: false });
let server: WebTransportServer;
let browser: BrowserPage;
let links: LinkPair;

beforeAll(async () => {
  links = createLinkPair({ egress: { loss: 0.1, delayMs: 10, seed: 1 }, ingress: { loss: 0.1, delayMs: 5, jitterMs: 3, reorder: true, seed: 2 } });
  server = await createWebTransportServer({ host: "127.0.0.1", port: 0, accept: admission(allowOrigins(["*"]), onPaths(["/wt"])), log, links });
  const ignore = () => {};
  (async () => {
    for await (const session of iterate(server.sessions)) {
      (async () => {
        for await (const stream of iterate(session.incomingBidirectionalStreams)) stream.readable.pipeTo(stream.writable).catch(ignore);
      })().catch(ignore);
      (async () => {
        const writer = session.datagrams.writable.getWriter();
        for await (const datagram of iterate(session.datagrams.readable)) await writer.write(datagram);
      })().catch(ignore);
    }
  })();
  browser = await openBrowserPage();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

test("through 10 % loss each way: the session opens, a 256 KiB bidi echo is intact, datagrams flow, packets were dropped", async () => {
  const result = await browser.page.evaluate(
    async ({ url, hash }) => {
      const value = Uint8Array.from(atob(hash), (c) => c.charCodeAt(0));
      const wt = new WebTransport(url, { serverCertificateHashes: [{ algorithm: "sha-256", value }] });
      await wt.ready;
      const size = 256 * 1024;
      const data = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
      const stream = await wt.createBidirectionalStream();
      const writer = stream.writable.getWriter();
      const written = writer.write(data).then(() => writer.close());
      let received = 0;
      let intact = true;
      for await (const chunk of stream.readable as unknown as AsyncIterable<Uint8Array>) {
        for (let i = 0; i < chunk.length; i++) if (chunk[i] !== (((received + i) * 7) & 0xff)) intact = false;
        received += chunk.length;
      }
      await written;
      const datagramWriter = wt.datagrams.writable.getWriter();
      const reader = wt.datagrams.readable.getReader();
      let echoed = 0;
      const reading = (async () => {
        for (;;) {
          const { done } = await reader.read();
          if (done) return;
          echoed++;
        }
      })();
      for (let i = 0; i < 200; i++) {
        await datagramWriter.write(Uint8Array.of(i));
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 500));
      wt.close({ closeCode: 0, reason: "done" });
      await reading.catch(() => {});
      return { received, intact, echoed };
    },
    { url: `https://127.0.0.1:${server.port}/wt`, hash: certificateHashBase64(server.certificateHashes[0]!) },
  );
  const egress = links.egress!.stats;
  const ingress = links.ingress!.stats;
  console.log(`lossy link: 256 KiB echoed intact=${result.intact}; ${result.echoed}/200 datagrams echoed; egress ${JSON.stringify(egress)}; ingress ${JSON.stringify(ingress)}`);
  expect(result.received).toBe(256 * 1024);
  expect(result.intact).toBe(true);
  expect(result.echoed).toBeGreaterThan(50); // ~81 % expected: 0.9 × 0.9
  expect(result.echoed).toBeLessThan(200);
  expect(egress.lost).toBeGreaterThan(0);
  expect(ingress.lost).toBeGreaterThan(0);
}, 60_000);
