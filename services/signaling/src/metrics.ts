/** The signaling service's metrics, registered in the registry its owner passes in. */
import type { ErrorCode, ErrorReport } from "@ballstream/protocol";
import { ERROR_BUCKETS_PX, LATENCY_BUCKETS_S, type Counter, type Gauge, type Histogram, type LinkMetrics, type Registry, counter, createLinkMetrics, defaultRegistry, gauge, histogram, once } from "@ballstream/runtime";

/** Where a rejected browser message came in: a control message, a datagram, or a whole session / connection. */
export type RejectedKind = "control" | "datagram" | "session" | "connection";

/**
 * Why a browser message was rejected: an {@link ErrorCode}, or a limit of signaling (rate cap, session cap,
 * idle timeout, a CONNECT refused for its origin or path, a backend that stopped).
 */
export type RejectReason = ErrorCode | "rate_limited" | "limit_exceeded" | "idle_timeout" | "forbidden" | "not_found" | "stalled";

/** What happened to one coordinates datagram: its frame found in the truth ring, not found, or no ball seen. */
export type CoordinatesOutcome = "matched" | "unmatched" | "not_found";

/** The signaling service's metrics. */
export interface SignalingMetrics {
  /** Viewer sessions currently open. */
  readonly activeSessions: Gauge;
  /** Distance from the detected centre to where the ball is at arrival (px). */
  readonly realtimeErrorPx: Histogram;
  /** Distance from the detected centre to the truth of the frame shown (px). */
  readonly frameErrorPx: Histogram;
  /** Arrival of the coordinates at signaling minus the frame's capture time (s). */
  readonly latencySeconds: Histogram;
  /** Coordinates datagrams received, by outcome. */
  readonly coordinatesReceived: Counter<"outcome">;
  /** Browser messages rejected, by where they came in and the error code. */
  readonly messagesRejected: Counter<"kind" | "reason">;
  /** QUIC connections the WebTransport server holds now (set when scraped). */
  readonly quicConnections: Gauge;
  /** Sessions whose silent generator another replica took over, by outcome (`ok`, `failed`). */
  readonly generatorTakeovers: Counter<"outcome">;
  /** Sessions a page resumed here after its signaling went away (`resume` with a valid token). */
  /** Viewers that joined a channel here, as its owner or not. */
  readonly channelJoins: Counter<"role">;
  readonly sessionsResumed: Counter;
  /** Sessions whose page was asked to renegotiate its video with another media replica, by why (`silent`, `leaving`). */
  readonly mediaRenegotiations: Counter<"reason">;
  /** The emulated link on the QUIC socket: conditions in force, packets by outcome, queue delay (`signaling_net_*`). */
  readonly net: LinkMetrics;
  /** Records one error report: its outcome and every figure it carries (NaN figures are skipped). */
  observeReport(report: ErrorReport): void;
  /** Counts one rejected message. */
  reject(kind: RejectedKind, reason: RejectReason): void;
}

/** Registers (once) and returns the signaling service's metrics. */
export function createSignalingMetrics(registry: Registry = defaultRegistry): SignalingMetrics {
  return once(registry, "signaling", () => {
    const realtimeErrorPx = histogram(registry, "signaling_realtime_error_pixels", "Detected centre to the ball's position at arrival (px).", ERROR_BUCKETS_PX);
    const frameErrorPx = histogram(registry, "signaling_frame_error_pixels", "Detected centre to the truth of the frame shown (px).", ERROR_BUCKETS_PX);
    const latencySeconds = histogram(registry, "signaling_latency_seconds", "Coordinates arrival minus the frame's capture time.", LATENCY_BUCKETS_S);
    const coordinatesReceived = counter(registry, "signaling_coordinates_received_total", "Coordinates datagrams received, by outcome.", ["outcome"]);
    const messagesRejected = counter(registry, "signaling_messages_rejected_total", "Browser messages rejected, by kind and reason.", ["kind", "reason"]);
    const observe = (h: Histogram, value: number) => {
      if (Number.isFinite(value)) h.observe(value);
    };
    return {
      activeSessions: gauge(registry, "signaling_active_sessions", "Open viewer sessions."),
      quicConnections: gauge(registry, "signaling_quic_connections", "QUIC connections held by the WebTransport server."),
      generatorTakeovers: counter(registry, "signaling_generator_takeovers_total", "Sessions whose silent generator another replica was asked to take over, by outcome.", ["outcome"]),
      channelJoins: counter(registry, "signaling_channel_joins_total", "Viewers that joined a channel here, by role (owner, viewer).", ["role"]),
      sessionsResumed: counter(registry, "signaling_sessions_resumed_total", "Sessions a page resumed here after its signaling went away."),
      mediaRenegotiations: counter(registry, "signaling_media_renegotiations_total", "Sessions whose page was asked to renegotiate with another media replica, by why.", ["reason"]),
      net: createLinkMetrics(registry, "signaling"),
      realtimeErrorPx,
      frameErrorPx,
      latencySeconds,
      coordinatesReceived,
      messagesRejected,
      observeReport: (r: ErrorReport) => {
        const outcome: CoordinatesOutcome = !r.found ? "not_found" : r.frameMatched ? "matched" : "unmatched";
        coordinatesReceived.inc({ outcome });
        if (r.found) observe(realtimeErrorPx, r.realtimeErrorPx);
        if (r.found && r.frameMatched) observe(frameErrorPx, r.frameErrorPx);
        if (r.frameMatched) observe(latencySeconds, r.latencyMs / 1000);
      },
      reject: (kind: RejectedKind, reason: RejectReason) => messagesRejected.inc({ kind, reason }),
    };
  });
}

