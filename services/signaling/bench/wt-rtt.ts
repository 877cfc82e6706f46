/**
 * Benchmark (not a test): WebTransport round trips from headless Chromium to our server on loopback. The page sends
 * small datagrams and small bidi-stream messages one at a time and waits for each echo; prints p50/p95 in ms.
 *
 *   bun services/signaling/bench/wt-rtt.ts            # target: p50 ≤ 2 ms
 */
import { createLogger } from "@ballstream/runtime";
import { admission, allowOrigins, certificateHashBase64, createWebTransportServer, onPaths, type WebTransportSession } from "../src/webtransport/mod.ts";
import { openBrowserPage } from "../test/webtransport/browser.ts";
import { iterate } from "../test/webtransport/iterate.ts";

/** Percentiles of one kind of round trip, in milliseconds. */
export interface RttFigures {
  readonly p50: number;
  readonly p95: number;
  /** Round trips measured (datagrams lost on the way are not counted). */
  readonly samples: number;
}

/** Figures of one benchmark run. */
export interface WebTransportRttResult {
  readonly datagram: RttFigures;
  readonly bidi: RttFigures;
}

/** Runs the benchmark: `rounds` round trips of each kind after a warm-up. */
export async function measureWebTransportRtt(rounds = 500): Promise<WebTransportRttResult> {
  const log = createLogger("wt-bench", { level: "warn", pretty: false });
  const server = await createWebTransportServer({ host: "127.0.0.1", port: 0, accept: admission(allowOrigins(["*"]), onPaths(["/wt"])), log });
  void (async () => {
    for await (const session of iterate(server.sessions)) echo(session);
  })();
  const browser = await openBrowserPage();
  try {
    const raw = await browser.page.evaluate(
      async ({ url, hash, rounds }) => {
        const value = Uint8Array.from(atob(hash), (c) => c.charCodeAt(0));
        const wt = new WebTransport(url, { serverCertificateHashes: [{ algorithm: "sha-256", value }] });
        await wt.ready;
        const warmUp = 50;
        const datagramRtts: number[] = [];
        const writer = wt.datagrams.writable.getWriter();
        const reader = wt.datagrams.readable.getReader();
        for (let i = 0; i < warmUp + rounds; i++) {
          const start = performance.now();
          await writer.write(new Uint8Array(Uint32Array.of(i).buffer));
          for (;;) {
            const got = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), 100))]);
            if (!got?.value) break; // lost: not counted
            if (new Uint32Array(got.value.slice().buffer)[0] === i) {
              if (i >= warmUp) datagramRtts.push(performance.now() - start);
              break;
            }
          }
        }
        const stream = await wt.createBidirectionalStream();
        const streamWriter = stream.writable.getWriter();
        const streamReader = stream.readable.getReader();
        const bidiRtts: number[] = [];
        for (let i = 0; i < warmUp + rounds; i++) {
          const start = performance.now();
          await streamWriter.write(new Uint8Array(16));
          let received = 0;
          while (received < 16) received += (await streamReader.read()).value?.length ?? 16;
          if (i >= warmUp) bidiRtts.push(performance.now() - start);
        }
        wt.close();
        return { datagramRtts, bidiRtts };
      },
      { url: `https://127.0.0.1:${server.port}/wt`, hash: certificateHashBase64(server.certificateHashes[0]!), rounds },
    );
    return { datagram: figures(raw.datagramRtts), bidi: figures(raw.bidiRtts) };
  } finally {
    await browser.close();
    await server.close();
  }
}

function echo(session: WebTransportSession): void {
  const ignore = () => {};
  void (async () => {
    for await (const stream of iterate(session.incomingBidirectionalStreams)) stream.readable.pipeTo(stream.writable).catch(ignore);
  })().catch(ignore);
  void (async () => {
    const writer = session.datagrams.writable.getWriter();
    for await (const datagram of iterate(session.datagrams.readable)) await writer.write(datagram);
  })().catch(ignore);
}

function figures(samples: number[]): RttFigures {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
  return { p50: at(0.5), p95: at(0.95), samples: sorted.length };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

if (import.meta.main) {
  const result = await measureWebTransportRtt();
  console.log(`WebTransport RTT on loopback (Chromium ↔ server), ms:`);
  console.log(`  datagram  p50 ${result.datagram.p50}  p95 ${result.datagram.p95}  (${result.datagram.samples} samples)`);
  console.log(`  bidi      p50 ${result.bidi.p50}  p95 ${result.bidi.p95}  (${result.bidi.samples} samples)`);
  console.log(`  target p50 ≤ 2 ms: ${result.datagram.p50 <= 2 && result.bidi.p50 <= 2 ? "met" : "NOT met"}`);
}
