/**
 * The media service: answers SDP offers on `subjects.mediaOffer` (queue group `media`, so replicas share the
 * sessions), refuses offers the page would not send (`checkOffer`, before werift parses them) and runs one
 * {@link MediaSession} — werift peer connection + ffmpeg/libx264 encoder — per session. Each replica says it is
 * alive on `subjects.mediaAlive(instance)` (its instance id travels in every answer), so signaling renegotiates a
 * dead replica's sessions with another; stopping, it says it is leaving and gives its pages that long to move.
 */
import { randomBytes } from "node:crypto";
import type { Bus, Logger, Registry } from "@ballstream/runtime";
import type { MediaAlive, MediaOfferAnswer } from "@ballstream/protocol";
import { QUEUE, ProtocolError, SESSION_TIMING, checkOffer, encodeJson, parseMediaOfferRequest, subjects } from "@ballstream/protocol";
import { defaultRegistry, netLog, serveJson } from "@ballstream/runtime";
import { createMediaMetrics } from "./metrics.ts";
import { DEFAULT_MEDIA_CONFIG, type MediaConfig } from "./config.ts";
import { resolveFfmpeg } from "./ffmpeg-path.ts";
import { UdpMux, installUdpMux } from "./udp-mux.ts";
import { MediaSession } from "./session.ts";

export { createMediaMetrics, type MediaMetrics } from "./metrics.ts";
export { DEFAULT_MEDIA_CONFIG, type MediaConfig, mediaConfigFromEnv } from "./config.ts";
export { type FfmpegBinary, resolveFfmpeg } from "./ffmpeg-path.ts";

/** Options of {@link startMedia}. */
export interface StartMediaOptions {
  readonly bus: Bus;
  readonly log: Logger;
  readonly config?: Partial<MediaConfig>;
  /** Where the metrics go (default: prom-client's global registry). */
  readonly registry?: Registry;
  /** How long {@link MediaService.stop} waits for the sessions to move to another replica (default {@link MEDIA_HAND_OVER_MS}; 0: close at once). */
  readonly handOverMs?: number;
}

/** A running media service. */
export interface MediaService {
  /** The ffmpeg binary in use. */
  readonly ffmpegPath: string;
  /** The one UDP port of every session's ICE, when `ICE_UDP_PORT` is set. */
  readonly iceUdpPort?: number;
  /** This replica's instance id (in its answers; the token of its `mediaAlive` subject). */
  readonly instance: string;
  /** Ids of the sessions open now. */
  sessionIds(): string[];
  /**
   * Leaves the queue group, says it is leaving (signaling then moves each page's video to another replica), waits
   * up to `handOverMs` for those sessions to go, closes the rest; does not drain the bus.
   */
  stop(): Promise<void>;
}

/** How long a stopping replica waits for its sessions to move elsewhere, by default (ms). */
export const MEDIA_HAND_OVER_MS = 2000;

/** Starts the media service on `bus`. Throws if no ffmpeg can be found. */
export async function startMedia({ bus, log, config: overrides = {}, registry = defaultRegistry, handOverMs = MEDIA_HAND_OVER_MS }: StartMediaOptions): Promise<MediaService> {
  const config: MediaConfig = { ...DEFAULT_MEDIA_CONFIG, ...overrides };
  const udpMux = config.iceUdpPort === undefined ? undefined : await UdpMux.bind(config.iceInterfaceAddress ?? "0.0.0.0", config.iceUdpPort, log);
  const uninstallMux = udpMux && installUdpMux(udpMux);
  const ffmpegPath = config.ffmpegPath ?? resolveFfmpeg().path;
  const metrics = createMediaMetrics(registry);
  metrics.net.inForce(config.net);
  const sessions = new Map<string, MediaSession>();
  let stopping = false;
  let opening = 0;
  const instance = randomBytes(9).toString("base64url");
  const sayAlive = (alive: MediaAlive) => {
    try {
      bus.publish(subjects.mediaAlive(instance), encodeJson(alive));
    } catch (err) {
      log.warn({ err }, "mediaAlive not published");
    }
  };
  const aliveTimer = setInterval(() => sayAlive({ leaving: false }), SESSION_TIMING.mediaAliveIntervalMs);

  const onClosed = (session: MediaSession) => {
    if (sessions.get(session.sessionId) === session) sessions.delete(session.sessionId);
  };

  const subscription = serveJson(
    bus,
    subjects.mediaOffer,
    parseMediaOfferRequest,
    async (request): Promise<MediaOfferAnswer> => {
      if (stopping) throw new ProtocolError("unavailable", "the media service is stopping");
      if (request.sdp !== undefined) checkOffer(request.sdp); // before werift: it spends seconds on an offer of many media sections
      await sessions.get(request.sessionId)?.close("replaced by a new offer");
      // Sessions still negotiating count too: offers arriving together must not all pass the check.
      if (sessions.size + opening >= config.maxSessions) throw new ProtocolError("unavailable", `media is at its limit of ${config.maxSessions} sessions`);
      opening++;
      const { session, sdp } = await MediaSession.open(request, { bus, log, metrics, config, ffmpegPath, onClosed, ...(udpMux ? { udpMux } : {}) }).finally(() => opening--);
      if (stopping) {
        await session.close("service stopping");
        throw new ProtocolError("unavailable", "the media service is stopping");
      }
      sessions.set(request.sessionId, session);
      return sdp === undefined ? { instance } : { sdp, instance };
    },
    log,
    { queue: QUEUE.media },
  );
  log.info({ ffmpegPath, instance, ...(udpMux ? { iceUdpPort: udpMux.address().port } : {}), ...netLog(config.net) }, "media service started");

  return {
    ffmpegPath,
    instance,
    ...(udpMux ? { iceUdpPort: udpMux.address().port } : {}),
    sessionIds: () => [...sessions.keys()],
    stop: async () => {
      stopping = true;
      subscription.unsubscribe(); // out of the queue group first, so the new offers go to other replicas
      clearInterval(aliveTimer);
      if (sessions.size > 0 && handOverMs > 0) {
        sayAlive({ leaving: true });
        const deadline = Date.now() + handOverMs;
        while (sessions.size > 0 && Date.now() < deadline) await Bun.sleep(20);
        log.info({ left: sessions.size }, "media hand-over done");
      }
      await Promise.all([...sessions.values()].map((s) => s.close("service stopping")));
      uninstallMux?.();
      await udpMux?.close();
    },
  };
}
