/**
 * The media service: answers SDP offers on `subjects.mediaOffer` (queue group `media`, so replicas share the
 * sessions), refuses offers the page would not send (`checkOffer`, before werift parses them) and runs one
 * {@link MediaSession} — werift peer connection + ffmpeg/libx264 encoder — per session.
 */
import type { Bus, Logger, Registry } from "@ballstream/runtime";
import type { MediaOfferAnswer } from "@ballstream/protocol";
import { QUEUE, ProtocolError, checkOffer, parseMediaOfferRequest, subjects } from "@ballstream/protocol";
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
}

/** A running media service. */
export interface MediaService {
  /** The ffmpeg binary in use. */
  readonly ffmpegPath: string;
  /** The one UDP port of every session's ICE, when `ICE_UDP_PORT` is set. */
  readonly iceUdpPort?: number;
  /** Ids of the sessions open now. */
  sessionIds(): string[];
  /** Closes every session (peer connections, encoders, subscriptions); does not drain the bus. */
  stop(): Promise<void>;
}

/** Starts the media service on `bus`. Throws if no ffmpeg can be found. */
export async function startMedia({ bus, log, config: overrides = {}, registry = defaultRegistry }: StartMediaOptions): Promise<MediaService> {
  const config: MediaConfig = { ...DEFAULT_MEDIA_CONFIG, ...overrides };
  const udpMux = config.iceUdpPort === undefined ? undefined : await UdpMux.bind(config.iceInterfaceAddress ?? "0.0.0.0", config.iceUdpPort, log);
  const uninstallMux = udpMux && installUdpMux(udpMux);
  const ffmpegPath = config.ffmpegPath ?? resolveFfmpeg().path;
  const metrics = createMediaMetrics(registry);
  metrics.net.inForce(config.net);
  const sessions = new Map<string, MediaSession>();
  let stopping = false;
  let opening = 0;

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
      return sdp === undefined ? {} : { sdp };
    },
    log,
    { queue: QUEUE.media },
  );
  log.info({ ffmpegPath, ...(udpMux ? { iceUdpPort: udpMux.address().port } : {}), ...netLog(config.net) }, "media service started");

  return {
    ffmpegPath,
    ...(udpMux ? { iceUdpPort: udpMux.address().port } : {}),
    sessionIds: () => [...sessions.keys()],
    stop: async () => {
      stopping = true;
      subscription.unsubscribe();
      await Promise.all([...sessions.values()].map((s) => s.close("service stopping")));
      uninstallMux?.();
      await udpMux?.close();
    },
  };
}
