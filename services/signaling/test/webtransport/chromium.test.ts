/**
 * The server against real headless Chromium 156: echo on bidi and uni streams and datagrams, 16 MiB intact, 50
 * concurrent streams, close code and reason, a client aborting mid-stream, a refused origin, and no connection left
 * behind by the sessions the server closes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLogger } from "@ballstream/runtime";
import { waitFor } from "@ballstream/testing";
import {
  admission,
  allowOrigins,
  certificateHashBase64,
  createWebTransportServer,
  onPaths,
  type WebTransportCloseInfo,
  type WebTransportServer,
  type WebTransportSession,
} from "../../src/webtransport/mod.ts";
import { SESSIONLESS_CLOSE_MS } from "../../src/webtransport/quiche-driver.ts";
import { iterate } from "./iterate.ts";
import { type BrowserPage, openBrowserPage } from "./browser.ts";

const log = createLogger("wt-test", { level: "warn", pretty: false });
let server: WebTransportServer;
let browser: BrowserPage;
const closes: WebTransportCloseInfo[] = [];
const sessionsSeen: WebTransportSession[] = [];

/** Echo server: bidi → same stream, uni → a new server uni stream, datagrams → datagrams. */
async function serve(session: WebTransportSession): Promise<void> {
  sessionsSeen.push(session);
  session.closed.then((info) => closes.push(info));
  const ignore = () => {};
  (async () => {
    for await (const stream of iterate(session.incomingBidirectionalStreams)) stream.readable.pipeTo(stream.writable).catch(ignore);
  })().catch(ignore);
  (async () => {
    for await (const readable of iterate(session.incomingUnidirectionalStreams)) {
      session.createUnidirectionalStream().then((writable) => readable.pipeTo(writable)).catch(ignore);
    }
  })().catch(ignore);
  (async () => {
    const writer = session.datagrams.writable.getWriter();
    for await (const datagram of iterate(session.datagrams.readable)) await writer.write(datagram);
  })().catch(ignore);
}

beforeAll(async () => {
  server = await createWebTransportServer({ host: "127.0.0.1", port: 0, accept: admission(allowOrigins(["*"]), onPaths(["/wt"])), log });
  (async () => {
    for await (const session of iterate(server.sessions)) serve(session);
  })();
  browser = await openBrowserPage();
  await browser.page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    w.connect = async (url: string, hash: string) => {
      const value = Uint8Array.from(atob(hash), (c) => c.charCodeAt(0));
      const wt = new WebTransport(url, { serverCertificateHashes: [{ algorithm: "sha-256", value }] });
      await wt.ready;
      return wt;
    };
    w.readAll = async (readable: ReadableStream<Uint8Array>) => {
      const chunks: Uint8Array[] = [];
      let length = 0;
      for await (const chunk of readable as unknown as AsyncIterable<Uint8Array>) {
        chunks.push(chunk);
        length += chunk.length;
      }
      const out = new Uint8Array(length);
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      return out;
    };
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const url = () => `https://127.0.0.1:${server.port}/wt`;
const hash = () => certificateHashBase64(server.certificateHashes[0]!);

type PageHelpers = {
  connect(url: string, hash: string): Promise<WebTransport>;
  readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array>;
};

describe("WebTransport server with Chromium", () => {
  test("echoes on a bidi stream, a uni stream and datagrams; the server sees the close code and reason", async () => {
    const result = await browser.page.evaluate(
      async ({ url, hash }) => {
        const h = window as unknown as PageHelpers;
        const wt = await h.connect(url, hash);
        const bidi = await wt.createBidirectionalStream();
        const writer = bidi.writable.getWriter();
        await writer.write(new TextEncoder().encode("hello bidi"));
        await writer.close();
        const bidiEcho = new TextDecoder().decode(await h.readAll(bidi.readable));

        const uni = await wt.createUnidirectionalStream();
        const uniWriter = uni.getWriter();
        await uniWriter.write(new TextEncoder().encode("hello uni"));
        await uniWriter.close();
        const incoming = wt.incomingUnidirectionalStreams.getReader();
        const { value: back } = await incoming.read();
        const uniEcho = new TextDecoder().decode(await h.readAll(back!));

        const datagramWriter = wt.datagrams.writable.getWriter();
        const datagramReader = wt.datagrams.readable.getReader();
        let datagramEcho: number[] = [];
        for (let attempt = 0; attempt < 50 && datagramEcho.length === 0; attempt++) {
          await datagramWriter.write(Uint8Array.of(7, 8, 9, attempt));
          const got = await Promise.race([datagramReader.read(), new Promise<null>((r) => setTimeout(() => r(null), 200))]);
          if (got?.value) datagramEcho = Array.from(got.value as Uint8Array).slice(0, 3);
        }
        wt.close({ closeCode: 4242, reason: "done here" });
        await wt.closed;
        return { bidiEcho, uniEcho, datagramEcho };
      },
      { url: url(), hash: hash() },
    );
    expect(result).toEqual({ bidiEcho: "hello bidi", uniEcho: "hello uni", datagramEcho: [7, 8, 9] });
    await waitFor(() => closes.some((c) => c.closeCode === 4242));
    expect(closes).toContainEqual({ closeCode: 4242, reason: "done here" });
  }, 30_000);

  test("16 MiB arrive intact through a bidi echo", async () => {
    const result = await browser.page.evaluate(
      async ({ url, hash }) => {
        const h = window as unknown as PageHelpers;
        const wt = await h.connect(url, hash);
        const size = 16 * 1024 * 1024;
        const data = new Uint8Array(size);
        for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
        const stream = await wt.createBidirectionalStream();
        const echoed = h.readAll(stream.readable);
        const writer = stream.writable.getWriter();
        for (let i = 0; i < size; i += 256 * 1024) await writer.write(data.subarray(i, i + 256 * 1024));
        await writer.close();
        const back = (await echoed) as Uint8Array<ArrayBuffer>;
        const digest = async (bytes: Uint8Array<ArrayBuffer>) => Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))).join(",");
        const same = back.length === size && (await digest(back)) === (await digest(data));
        wt.close({ closeCode: 0, reason: "" });
        return { length: back.length, same };
      },
      { url: url(), hash: hash() },
    );
    expect(result).toEqual({ length: 16 * 1024 * 1024, same: true });
  }, 60_000);

  test("50 concurrent bidi streams each get their own echo", async () => {
    const echoes = await browser.page.evaluate(
      async ({ url, hash }) => {
        const h = window as unknown as PageHelpers;
        const wt = await h.connect(url, hash);
        const results = await Promise.all(
          Array.from({ length: 50 }, async (_, i) => {
            const stream = await wt.createBidirectionalStream();
            const writer = stream.writable.getWriter();
            await writer.write(new TextEncoder().encode(`stream ${i} `.repeat(100)));
            await writer.close();
            return new TextDecoder().decode(await h.readAll(stream.readable)) === `stream ${i} `.repeat(100);
          }),
        );
        wt.close();
        return results.filter(Boolean).length;
      },
      { url: url(), hash: hash() },
    );
    expect(echoes).toBe(50);
  }, 30_000);

  test("a client that aborts mid-stream leaves the server serving the next session", async () => {
    const before = sessionsSeen.length;
    await browser.page.evaluate(
      async ({ url, hash }) => {
        const h = window as unknown as PageHelpers;
        const wt = await h.connect(url, hash);
        const stream = await wt.createBidirectionalStream();
        const writer = stream.writable.getWriter();
        await writer.write(new Uint8Array(512 * 1024));
        // Chromium 156 takes the WebTransportErrorInit dictionary form, which the DOM typings here do not know.
        const ErrorWithInit = WebTransportError as unknown as new (init: { message: string; streamErrorCode: number }) => Error;
        await writer.abort(new ErrorWithInit({ message: "abort", streamErrorCode: 3 }));
        await stream.readable.cancel().catch(() => {});
        const other = await wt.createBidirectionalStream();
        const otherWriter = other.writable.getWriter();
        await otherWriter.write(new Uint8Array(256 * 1024));
        wt.close({ closeCode: 9, reason: "gone mid-stream" }); // abandons the second stream half-written
      },
      { url: url(), hash: hash() },
    );
    const echo = await browser.page.evaluate(
      async ({ url, hash }) => {
        const h = window as unknown as PageHelpers;
        const wt = await h.connect(url, hash);
        const stream = await wt.createBidirectionalStream();
        const writer = stream.writable.getWriter();
        await writer.write(new TextEncoder().encode("still here"));
        await writer.close();
        const text = new TextDecoder().decode(await h.readAll(stream.readable));
        wt.close();
        return text;
      },
      { url: url(), hash: hash() },
    );
    expect(echo).toBe("still here");
    expect(sessionsSeen.length).toBe(before + 2);
    await waitFor(() => closes.some((c) => c.closeCode === 9));
  }, 30_000);

  test("a CONNECT from an origin that is not allowed gets 403 and the page sees the failure", async () => {
    const strict = await createWebTransportServer({ host: "127.0.0.1", port: 0, accept: admission(allowOrigins(["https://example.com"])), log });
    let accepted = 0;
    (async () => {
      for await (const _ of iterate(strict.sessions)) accepted++;
    })();
    try {
      const outcome = await browser.page.evaluate(
        async ({ url, hash }) => {
          const h = window as unknown as PageHelpers;
          try {
            await h.connect(url, hash);
            return "connected";
          } catch (error) {
            return `failed: ${(error as Error).name}`;
          }
        },
        { url: `https://127.0.0.1:${strict.port}/wt`, hash: certificateHashBase64(strict.certificateHashes[0]!) },
      );
      expect(outcome).toStartWith("failed");
      expect(accepted).toBe(0);
    } finally {
      await strict.close();
    }
  }, 30_000);

  test("close() ends live sessions with a close the page sees", async () => {
    const other = await createWebTransportServer({ host: "127.0.0.1", port: 0, accept: admission(allowOrigins([browser.origin])), log });
    (async () => {
      for await (const session of iterate(other.sessions)) serve(session);
    })();
    const closed = browser.page.evaluate(
      async ({ url, hash }) => {
        const h = window as unknown as PageHelpers;
        const wt = await h.connect(url, hash);
        (window as unknown as Record<string, unknown>).ready = true;
        const info = await wt.closed;
        return { closeCode: info.closeCode, reason: info.reason };
      },
      { url: `https://127.0.0.1:${other.port}/wt`, hash: certificateHashBase64(other.certificateHashes[0]!) },
    );
    await browser.page.waitForFunction(() => (window as unknown as Record<string, unknown>).ready === true, undefined, { timeout: 10_000 });
    await other.close();
    expect(await closed).toEqual({ closeCode: 0, reason: "server closing" });
  }, 30_000);

  test("a session the server closes leaves no connection behind: Chromium keeps it open, the server closes it", async () => {
    const other = await createWebTransportServer({ host: "127.0.0.1", port: 0, accept: admission(allowOrigins([browser.origin])), log });
    (async () => {
      for await (const session of iterate(other.sessions)) session.close({ closeCode: 7, reason: "not now" });
    })();
    try {
      const closed = await browser.page.evaluate(
        async ({ url, hash }) => {
          const h = window as unknown as PageHelpers;
          const tries = [];
          for (let i = 0; i < 3; i++) {
            const info = await (await h.connect(url, hash)).closed;
            tries.push({ closeCode: info.closeCode, reason: info.reason });
          }
          return tries;
        },
        { url: `https://127.0.0.1:${other.port}/wt`, hash: certificateHashBase64(other.certificateHashes[0]!) },
      );
      expect(closed).toEqual(Array(3).fill({ closeCode: 7, reason: "not now" }));
      // Without the server's close the three stay open for the idle timeout (30 s) and fill the per-address cap.
      await waitFor(() => other.connectionCount === 0, SESSIONLESS_CLOSE_MS + 3000, "the connections closed");
    } finally {
      await other.close();
    }
  }, 30_000);
});
