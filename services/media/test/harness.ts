/**
 * Stands in for signaling in the Chromium test and the benchmark: an HTTP server on 127.0.0.1 serving the test
 * page, whose `POST /offer` starts a generator session and relays the offer to the media service over the bus
 * (exactly the requests signaling makes), keeps the session alive with heartbeats, and records every truth.
 */
import type { Bus, FrameTruth } from "@ballstream/runtime";
import type { MediaOfferAnswer, SessionSettings } from "@ballstream/protocol";
import { DEFAULT_SETTINGS, SESSION_ID_BYTES, SESSION_TIMING, encodeJson, parseMediaOfferAnswer, parseSettings, rtpTimestampFromCaptureTime, subjects } from "@ballstream/protocol";
import { decodeTruth, requestJson } from "@ballstream/runtime";
import { join } from "node:path";

/** A page server plus the sessions it started. */
export interface Harness {
  readonly url: string;
  /** Truths of every frame the generator published, by RTP timestamp. */
  readonly truths: Map<number, FrameTruth>;
  /** Ids of the sessions started through `/offer`. */
  readonly sessionIds: string[];
  /** Ends every session (publishes `ended`) and stops the server. */
  stop(): Promise<void>;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>media test</title><video muted playsinline autoplay></video><script type="module" src="/receiver.js"></script>`;

async function bundlePage(): Promise<string> {
  const out = await Bun.build({ entrypoints: [join(import.meta.dir, "page/receiver.ts")], target: "browser", format: "esm" });
  if (!out.success) throw new Error(`bundling the test page failed: ${out.logs.join("\n")}`);
  return out.outputs[0]!.text();
}

function randomSessionId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(SESSION_ID_BYTES))).toString("base64url");
}

/** Starts the harness on `bus`; sessions use `settings` (fps etc.) over the defaults. */
export async function startHarness(bus: Bus, settings: Partial<SessionSettings> = {}): Promise<Harness> {
  const script = await bundlePage();
  const truths = new Map<number, FrameTruth>();
  const sessionIds: string[] = [];
  const timers: Array<ReturnType<typeof setInterval>> = [];
  const subs: Array<{ unsubscribe(): void }> = [];
  const full = parseSettings({ ...DEFAULT_SETTINGS, ...settings });

  async function offer(sdp: string): Promise<MediaOfferAnswer> {
    const sessionId = randomSessionId();
    sessionIds.push(sessionId);
    subs.push(
      bus.subscribe(subjects.truth(sessionId), (msg) => {
        const t = decodeTruth(msg.data);
        truths.set(rtpTimestampFromCaptureTime(t.captureTimeMs), t);
      }),
    );
    timers.push(setInterval(() => bus.publish(subjects.heartbeat(sessionId), new Uint8Array(0)), SESSION_TIMING.heartbeatIntervalMs));
    await requestJson(bus, subjects.generatorStart, { sessionId, settings: full }, parseSettings, SESSION_TIMING.requestTimeoutMs);
    return requestJson(bus, subjects.mediaOffer, { sessionId, sdp }, parseMediaOfferAnswer, 10_000);
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/") return new Response(PAGE, { headers: { "content-type": "text/html" } });
      if (path === "/receiver.js") return new Response(script, { headers: { "content-type": "text/javascript" } });
      if (path === "/offer" && req.method === "POST") {
        try {
          const { sdp } = (await req.json()) as { sdp: string };
          return Response.json(await offer(sdp));
        } catch (err) {
          return Response.json({ error: String(err) }, { status: 500 });
        }
      }
      return new Response("not found", { status: 404 });
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}/`,
    truths,
    sessionIds,
    stop: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of subs) s.unsubscribe();
      for (const id of sessionIds) if (!bus.closed) bus.publish(subjects.ended(id), encodeJson({ reason: "test over" }));
      await server.stop(true);
    },
  };
}
