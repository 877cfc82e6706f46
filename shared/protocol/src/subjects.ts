/**
 * Every NATS subject ballstream uses, written once. Session ids are URL-safe base64 (`[A-Za-z0-9_-]`), which is
 * also a valid NATS token.
 */
const ROOT = "ballstream";

/** Queue groups: replicas of one service share the requests on a subject. */
export const QUEUE = { generator: "generator", media: "media" } as const;

export const subjects = {
  /** Request/reply (queue group `generator`): start a generator session. JSON {@link StartSessionRequest}. */
  generatorStart: `${ROOT}.generator.start`,
  /** Request/reply (queue group `media`): SDP offer in, SDP answer out. JSON {@link MediaOfferRequest}. */
  mediaOffer: `${ROOT}.media.offer`,
  /**
   * JSON {@link MediaAlive}, one media replica (its `instance` from {@link MediaOfferAnswer}) → signaling, every
   * `SESSION_TIMING.mediaAliveIntervalMs`: signaling renegotiates a session's video elsewhere when it stops.
   */
  mediaAlive: (instance: string) => `${ROOT}.media.${instance}.alive`,
  /** Request/reply to the generator that owns the session: change fps/speed, or stop. */
  sessionControl: (sessionId: string) => `${ROOT}.session.${sessionId}.control`,
  /** Binary frames (header + I420 pixels), generator → media. */
  frames: (sessionId: string) => `${ROOT}.session.${sessionId}.frames`,
  /** Binary ground truth of every frame, generator → signaling. */
  truth: (sessionId: string) => `${ROOT}.session.${sessionId}.truth`,
  /** Empty message, signaling → generator + media, at least every `heartbeatIntervalMs` while the viewer lives. */
  heartbeat: (sessionId: string) => `${ROOT}.session.${sessionId}.heartbeat`,
  /**
   * JSON {@link SessionResumed}, signaling → signaling: a page resumed this session on the replica named `by`; any
   * other viewer session of it (its old signaling, if alive) ends without releasing it.
   */
  resumed: (sessionId: string) => `${ROOT}.session.${sessionId}.resumed`,
  /** JSON {@link SessionEnded}, signaling → generator + media: release everything of this session now. */
  ended: (sessionId: string) => `${ROOT}.session.${sessionId}.ended`,
  /** JSON {@link NetworkSettings}, signaling → media: the session's emulated link changed (the offer carried the first). */
  network: (sessionId: string) => `${ROOT}.session.${sessionId}.network`,
  /**
   * JSON {@link VideoWanted}, signaling → media, with every heartbeat while the session has a WebTransport-video
   * viewer (and at once when it needs a keyframe): media publishes `video` only while these keep coming.
   */
  videoWanted: (sessionId: string) => `${ROOT}.session.${sessionId}.video-wanted`,
  /** Binary {@link VideoUnit} (one encoded access unit: capture time, frame id, keyframe flag, Annex B), media → signaling. */
  video: (sessionId: string) => `${ROOT}.session.${sessionId}.video`,
  /** JSON {@link SessionSettings}, generator → signaling, after every live change: a channel's viewers see their owner's. */
  settings: (sessionId: string) => `${ROOT}.session.${sessionId}.settings`,
  /** JSON {@link Claim}, a channel source's generator session or media encoder → its peers: the younger of two stops. */
  claim: (sessionId: string, service: "generator" | "media") => `${ROOT}.session.${sessionId}.claim.${service}`,
  /** JSON {@link SessionEvent}, generator/media → signaling: something the viewer should know happened. */
  events: (sessionId: string) => `${ROOT}.session.${sessionId}.events`,
} as const;
