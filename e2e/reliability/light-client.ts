/**
 * Light viewers for the reliability tests: WebTransport sessions opened from a Chromium page without video
 * elements or detection. Each one sends a real WebRTC offer (so generator and media really start a session),
 * applies the answer (so media's peer connection connects and streams), and can send datagrams. Many of them fit
 * in one page; they are driven through `page.evaluate` and live in `window.__light`.
 */
import type { Page } from "playwright-core";
import type { ClientConfig, SessionSettings } from "@ballstream/protocol";

/** What the test asks of one light session. */
export interface LightOptions {
  /** Settings sent with the offer (small frames keep the churn cheap). */
  readonly settings?: Partial<SessionSettings>;
  /** Apply media's answer so the peer connection connects (default true). */
  readonly applyAnswer?: boolean;
}

/** How a light session ended, or `null` while it runs. */
export interface LightState {
  readonly sessionId: string | null;
  readonly error: string | null;
  readonly closed: { closeCode: number; reason: string } | null;
  readonly reports: number;
}

/** Cheap settings for sessions that only need to exist. */
export const SMALL_SETTINGS: Partial<SessionSettings> = { width: 160, height: 120, fps: 10, radius: 10 };

/** A page of the system's origin (allowed to open WebTransport) that does not start a viewer by itself. */
export async function openLightPage(page: Page, baseUrl: string): Promise<ClientConfig> {
  await page.goto(new URL("healthz", baseUrl).href);
  return (await (await fetch(new URL("config.json", baseUrl))).json()) as ClientConfig;
}

/**
 * Opens one light session and waits for its answer (or its error). Resolves with its key in the page;
 * `state(page, key)` tells how it went.
 */
export function openLight(page: Page, config: ClientConfig, options: LightOptions = {}): Promise<number> {
  return page.evaluate(
    async ({ config, settings, applyAnswer }) => {
      type Light = { wt: WebTransport; pc: RTCPeerConnection; writer?: WritableStreamDefaultWriter<Uint8Array>; state: { sessionId: string | null; error: string | null; closed: { closeCode: number; reason: string } | null; reports: number } };
      const g = globalThis as unknown as { __light?: Light[] };
      const lights = (g.__light ??= []);
      const key = lights.length;
      const hashes = config.certificateHashes.map((h) => ({ algorithm: "sha-256", value: Uint8Array.from(atob(h), (c) => c.charCodeAt(0)) }));
      const wt = new WebTransport(`https://127.0.0.1:${config.wtPort}${config.wtPath}`, hashes.length ? { serverCertificateHashes: hashes } : {});
      const pc = new RTCPeerConnection({ iceServers: [] });
      const state: Light["state"] = { sessionId: null, error: null, closed: null, reports: 0 };
      const light: Light = { wt, pc, state };
      lights.push(light);
      void wt.closed.then(
        (info) => void (state.closed = { closeCode: info.closeCode ?? 0, reason: info.reason ?? "" }),
        (err) => void (state.closed = { closeCode: -1, reason: String(err) }),
      );
      try {
        await wt.ready;
        void (async () => {
          const reader = wt.datagrams.readable.getReader();
          for (let next = await reader.read(); !next.done; next = await reader.read()) state.reports++;
        })().catch(() => undefined);
        const stream = await wt.createBidirectionalStream();
        const writer = stream.writable.getWriter();
        light.writer = writer;
        pc.addTransceiver("video", { direction: "recvonly" });
        await pc.setLocalDescription(await pc.createOffer());
        await new Promise<void>((resolve) => {
          if (pc.iceGatheringState === "complete") return resolve();
          pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
          setTimeout(resolve, 2000);
        });
        const json = new TextEncoder().encode(JSON.stringify({ type: "offer", sdp: pc.localDescription!.sdp, settings }));
        const framed = new Uint8Array(4 + json.length);
        new DataView(framed.buffer).setUint32(0, json.length);
        framed.set(json, 4);
        await writer.write(framed);
        // Control messages until the answer (or an error / the end of the stream).
        const reader = stream.readable.getReader();
        let buffered = new Uint8Array(0);
        for (;;) {
          const next = await reader.read();
          if (next.done) break;
          const joined = new Uint8Array(buffered.length + next.value.length);
          joined.set(buffered);
          joined.set(next.value, buffered.length);
          buffered = joined;
          let answered = false;
          while (buffered.length >= 4) {
            const length = new DataView(buffered.buffer, buffered.byteOffset).getUint32(0);
            if (buffered.length < 4 + length) break;
            const message = JSON.parse(new TextDecoder().decode(buffered.subarray(4, 4 + length)));
            buffered = buffered.slice(4 + length);
            if (message.type === "session") state.sessionId = message.sessionId;
            if (message.type === "error") state.error = `${message.code}: ${message.message}`;
            if (message.type === "answer") {
              if (applyAnswer) await pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
              answered = true;
            }
          }
          if (answered || state.error) break;
        }
        reader.releaseLock();
      } catch (err) {
        state.error ??= String(err);
      }
      return key;
    },
    { config, settings: options.settings ?? SMALL_SETTINGS, applyAnswer: options.applyAnswer ?? true },
  );
}

/** The state of light session `key`. */
export function lightState(page: Page, key: number): Promise<LightState> {
  return page.evaluate((key) => {
    const g = globalThis as unknown as { __light: Array<{ state: LightState }> };
    return { ...g.__light[key]!.state };
  }, key);
}

/**
 * Ends light session `key` as a page may: `stop` (stop message, then close), or `close` (WebTransport closed
 * without a word, as a tab's script would on navigation). Closing the page or its context is the test's business.
 */
export function endLight(page: Page, key: number, how: "stop" | "close"): Promise<void> {
  return page.evaluate(
    async ({ key, how }) => {
      const g = globalThis as unknown as { __light: Array<{ wt: WebTransport; pc: RTCPeerConnection; writer?: WritableStreamDefaultWriter<Uint8Array> }> };
      const { wt, pc, writer } = g.__light[key]!;
      if (how === "stop" && writer) {
        try {
          const json = new TextEncoder().encode(JSON.stringify({ type: "stop" }));
          const framed = new Uint8Array(4 + json.length);
          new DataView(framed.buffer).setUint32(0, json.length);
          framed.set(json, 4);
          await writer.write(framed);
        } catch {
          // the session may already be gone
        }
      }
      pc.close();
      try {
        wt.close({ closeCode: 0, reason: how });
      } catch {
        // already closed
      }
    },
    { key, how },
  );
}

/** Sends `count` datagrams of the given bytes on light session `key` (not awaited one by one: a flood). */
export function sendDatagrams(page: Page, key: number, bytes: number[], count: number): Promise<void> {
  return page.evaluate(
    async ({ key, bytes, count }) => {
      const g = globalThis as unknown as { __light: Array<{ wt: WebTransport }> };
      const writer = g.__light[key]!.wt.datagrams.writable.getWriter();
      const payload = Uint8Array.from(bytes);
      for (let i = 0; i < count; i++) void writer.write(payload).catch(() => undefined);
      await writer.ready.catch(() => undefined);
      writer.releaseLock();
    },
    { key, bytes, count },
  );
}

/** A real recvonly-video offer SDP from the page's Chromium, for raw clients that must negotiate a session. */
export function chromiumOfferSdp(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver("video", { direction: "recvonly" });
    await pc.setLocalDescription(await pc.createOffer());
    const sdp = pc.localDescription!.sdp;
    pc.close();
    return sdp;
  });
}
