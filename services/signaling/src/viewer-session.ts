/**
 * One viewer: one WebTransport session from a page. It reads the page's control stream (offer, live changes,
 * stop), checks the SDP offer, relays it to media and then starts the generator session over the bus, keeps the
 * session alive with heartbeats, follows its ground truth and answers every coordinates datagram with an error
 * report. A page that joins a channel (`channel`) follows the channel's source instead of a session of its own: its
 * truths, its access units, its settings (changed by the owner only); the source is started with the channel's
 * first viewer and lives while any viewer beats. A page that asks for the video over WebTransport (`wtVideo`) gets media's access units on
 * unidirectional streams ({@link VideoSender}); only then does signaling ask media for them (`videoWanted`). Any failure reaches the page as an `error` message and a close code; whatever ends the session
 * (failure, stop, transport gone, server shutdown) releases everything of it, on the bus too.
 */
import { type Bus, type BusSubscription, type Logger, SessionLink, type SharedSubscriptions, decodeTruth, inBackground, netConditionsOf, netLog, requestJson, resumeAfter } from "@ballstream/runtime";
import { type RejectReason, type RejectedKind, type SignalingMetrics } from "./metrics.ts";
import { CLOSE_CODES, type ChannelJoin, type ClientMessage, type ControlMessage, type Coordinates, DEFAULT_SETTINGS, type MediaOfferAnswer, type MediaOfferRequest, NO_NETWORK, type NetworkSettings, ProtocolError, SESSION_TIMING, type ServerMessage, type SessionEnded, type SessionResumed, type SessionSettings, type StartSessionRequest, type VideoWanted, checkOffer, decodeCoordinates, decodeJson, encodeErrorReport, encodeJson, nowMs, parseMediaAlive, parseMediaOfferAnswer, parseSessionEvent, parseSessionResumed, parseSettings, subjects } from "@ballstream/protocol";
import { ControlChannel } from "./control-channel.ts";
import { TokenBucket } from "./rate-limit.ts";
import { OwnStalls, excuse } from "./own-stalls.ts";
import type { ResumeTokens } from "./resume-token.ts";
import { buildErrorReport } from "./error-report.ts";
import { newSessionId } from "./session-id.ts";
import { channelSessionId } from "./channel-id.ts";
import { TRUTH_WAIT_MS, TruthRing } from "./truth-ring.ts";
import { DEFAULT_WT_VIDEO, type VideoFraming, VideoSender } from "./video-sender.ts";
import type { WebTransportBidirectionalStream, WebTransportSession } from "./webtransport/mod.ts";

/** A session-ending failure: what the page is told, and the close code. */
class SessionFailure extends Error {
  constructor(
    readonly code: RejectReason,
    message: string,
    readonly closeCode: number,
  ) {
    super(message);
  }
}

/** Options of a {@link ViewerSession}. */
export interface ViewerSessionOptions {
  readonly bus: Bus;
  readonly log: Logger;
  /** How long to wait for each generator or media reply. */
  readonly requestTimeoutMs: number;
  /** How long a page may take to open its control stream and send its offer. */
  readonly offerTimeoutMs: number;
  /** Heartbeat period on the bus. */
  readonly heartbeatIntervalMs?: number;
  /** Where the figures of every report and every rejected message are counted. */
  readonly metrics?: SignalingMetrics;
  /** Control messages per second (bursts up to the same number); more end the session. Default: unlimited. */
  readonly controlRatePerS?: number;
  /** Datagrams per second (bursts up to the same number); more are dropped and counted. Default: unlimited. */
  readonly datagramRatePerS?: number;
  /** End a streaming session when no truth arrived for this long (generator or bus down). Default: never. */
  readonly truthTimeoutMs?: number;
  /**
   * Ask another generator replica to take the session over (continuing its trajectory) when no truth arrived for
   * this long, or three frame intervals if longer; once per silence. Default: never.
   */
  readonly takeoverAfterMs?: number;
  /**
   * Ask the page to renegotiate its video with another media replica when the session's replica said nothing for
   * this long (or said it is leaving: at once). Default: never.
   */
  readonly mediaTakeoverAfterMs?: number;
  /** End a session when its page sent coordinates and then none for this long (video stalled). Default: never. */
  readonly videoTimeoutMs?: number;
  /** The server's table of peers' own links: the session's network setting goes in under its page's address. Absent: not emulated here. */
  readonly peerLinks?: Map<string, SessionLink>;
  /** Where a channel viewer follows its channel's subjects: one bus subscription per channel for the whole replica (absent: its own). */
  readonly channelSubjects?: SharedSubscriptions;
  /** Issues the `session` message's resumption token and checks a `resume`'s (absent: no resumption). */
  readonly resumeTokens?: ResumeTokens;
  /** The WebTransport video path: streams per GOP or per frame, and the bytes and time units may wait per viewer. */
  readonly wtVideo?: { readonly framing: VideoFraming; readonly maxQueuedBytes: number; readonly maxQueuedMs: number };
  /** Where an `attach` finds the running session it names, and hears that one took (absent: no attaching here). */
  readonly attach?: CoordinatesAttach;
}

/** The server's side of `attach`: a detection worker's connection carries a running session's coordinates. */
export interface CoordinatesAttach {
  /** The running session `sessionId` on this replica, if any. */
  find(sessionId: string): ViewerSession | undefined;
  /** `connection` now carries the coordinates of another session (it no longer counts as a viewer of its own). */
  attached(connection: ViewerSession): void;
}


/** A JSON bus message read by `parse`, or undefined when malformed (a beat or notice nobody needs to hear about). */
function parsedOrUndefined<T>(data: Uint8Array, parse: (value: unknown) => T): T | undefined {
  try {
    return parse(decodeJson(data));
  } catch {
    return undefined;
  }
}

/**
 * What media is asked for a session: its offer (none: WebTransport video only), its network when it has one, and the
 * channel's source when it watches one.
 */
function mediaOfferOf(sessionId: string, sdp: string | undefined, network: NetworkSettings | undefined, channel: string | undefined): MediaOfferRequest {
  return {
    sessionId,
    ...(sdp === undefined ? {} : { sdp }),
    ...(network === undefined || (network.down === "" && network.up === "") ? {} : { network }),
    ...(channel === undefined ? {} : { channel }),
  };
}

/** How long the page's `error` message may take to leave before the session is closed anyway. */
const ERROR_FLUSH_MS = 500;

/** Counters of one session, for its last log line and for tests. */
export interface ViewerSessionStats {
  coordinates: number;
  reports: number;
  malformedDatagrams: number;
  rateLimitedDatagrams: number;
  badTruths: number;
}

/** One page's session; it runs from construction until {@link ViewerSession.done} resolves. */
export class ViewerSession {
  /** Resolves once the session has ended and released everything. */
  readonly done: Promise<void>;
  readonly stats: ViewerSessionStats = { coordinates: 0, reports: 0, malformedDatagrams: 0, rateLimitedDatagrams: 0, badTruths: 0 };

  readonly #wt: WebTransportSession;
  readonly #options: ViewerSessionOptions;
  readonly #ring = new TruthRing();
  /** Coordinates whose frame's truth is still on its way (at most {@link MAX_AWAITING}), answered when it comes or after {@link TRUTH_WAIT_MS}. */
  #awaiting: AwaitingTruth[] = [];
  #awaitTimer: ReturnType<typeof setTimeout> | undefined;
  #datagramWriter: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #subs: BusSubscription[] = [];
  #log: Logger;
  #sessionId: string | undefined;
  /** The session whose generator, truths and access units this viewer follows: its own, or its channel's source. */
  #source: string | undefined;
  /** The channel it watches, and whether it owns it (may change its settings). */
  #channel: { readonly name: string; readonly owner: boolean } | undefined;
  #settings: SessionSettings | undefined;
  #control: ControlChannel | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #offerTimer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #video: VideoSender | undefined;
  /** When the last truth arrived (nowMs), once the session streams. */
  #lastTruthMs = 0;
  /** When the last coordinates arrived (nowMs); 0 until the first. */
  #lastCoordinatesMs = 0;
  readonly #controlRate: TokenBucket | undefined;
  readonly #datagramRate: TokenBucket | undefined;
  #ending: Promise<void> | undefined;
  /** Whether a takeover of the generator is under way, and whether one was tried in this silence. */
  #takingOver = false;
  #triedTakeover = false;
  /** The media replica serving the video: its instance, when it last said it is alive, its subscription. */
  #media: { readonly instance: string; lastAliveMs: number; readonly sub: BusSubscription } | undefined;
  /** The page was asked to renegotiate and its new offer has not been answered yet. */
  #renegotiating = false;
  /** Whether the session asked for its video over WebTransport. */
  #wtVideo = false;
  /** This page's own link on signaling's socket, once its network setting asked for one. */
  #link: SessionLink | undefined;
  /** The session whose coordinates this connection's datagrams are: itself, or the one its `attach` named. */
  #coordinatesOf: ViewerSession = this;
  /** The detection workers' connections attached to this session while they are open, oldest first (at most {@link MAX_ATTACHED}). */
  readonly #attached: ViewerSession[] = [];
  #resolveDone!: () => void;

  constructor(wt: WebTransportSession, options: ViewerSessionOptions) {
    this.#wt = wt;
    this.#options = options;
    this.#log = options.log.child({ wtSession: wt.id });
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    if (options.controlRatePerS) this.#controlRate = new TokenBucket(options.controlRatePerS);
    if (options.datagramRatePerS) this.#datagramRate = new TokenBucket(options.datagramRatePerS);
    this.#offerTimer = setTimeout(
      () => this.#background("the offer timeout", this.#fail(new SessionFailure("idle_timeout", `no offer within ${options.offerTimeoutMs} ms`, CLOSE_CODES.idleTimeout))),
      options.offerTimeoutMs,
    );
    // a page that gives this connection up to resume elsewhere (close code resuming) keeps its session for that
    this.#background("ending on transport close", wt.closed.then((info) => this.end(info.closeCode, info.reason || "transport closed", info.closeCode === CLOSE_CODES.resuming)));
    this.#background("reading the control stream", this.#readControl());
    this.#background("reading datagrams", this.#readDatagrams());
  }

  /** The session id, once the offer has arrived. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** The current settings, once the generator has started. */
  get settings(): SessionSettings | undefined {
    return this.#settings;
  }

  /**
   * Ends the session (idempotent): closes the WebTransport session with `closeCode` and `reason`, stops the
   * heartbeat, unsubscribes, and publishes `ended` so the generator and media release it at once — unless
   * `resumable` (the server is shutting down): then they keep it for their heartbeat timeout, for the page to
   * resume it on another replica.
   */
  end(closeCode: number, reason: string, resumable = false): Promise<void> {
    this.#ending ??= this.#release(closeCode, reason, resumable);
    return this.#ending;
  }

  /** Releases everything; whatever throws on the way is logged, and {@link done} resolves regardless. */
  async #release(closeCode: number, reason: string, resumable: boolean): Promise<void> {
    clearTimeout(this.#offerTimer);
    clearTimeout(this.#awaitTimer);
    clearInterval(this.#heartbeat);
    clearInterval(this.#watchdog);
    this.#closeLink();
    const owner = this.#coordinatesOf;
    const mine = owner.#attached.indexOf(this);
    if (mine >= 0) {
      owner.#unlink(this.#wt.remoteAddress);
      owner.#attached.splice(mine, 1);
    }
    for (const attached of this.#attached.splice(0)) this.#background("closing an attached connection", attached.end(CLOSE_CODES.normal, "its session ended"));
    try {
      this.#unwatchMedia();
      for (const sub of this.#subs.splice(0)) sub.unsubscribe();
      this.#video?.close();
      if (this.#control) this.#background("closing the control stream", this.#control.close());
      this.#wt.close({ closeCode, reason });
    } catch (err) {
      this.#log.error({ err }, "releasing the viewer session failed");
    }
    if (!resumable || !this.#settings) this.#publishEnded(reason);
    this.#log.info({ closeCode, reason, resumable, ...this.stats, ...(this.#video ? { video: this.#video.stats } : {}) }, "viewer session ended");
    this.#resolveDone();
  }

  /** Runs `work` on its own; a rejection is logged with the session's context, never left unhandled. */
  #background(what: string, work: Promise<unknown>): void {
    inBackground(this.#log, what, work);
  }

  /** Tells the page what went wrong (briefly waiting for it to leave), then ends the session. */
  async #fail(failure: SessionFailure): Promise<void> {
    if (this.#ending) return;
    this.#log.warn({ code: failure.code, err: failure.message }, "viewer session failed");
    const counted = REJECTED_BY_CLOSE_CODE[failure.closeCode];
    if (counted) this.#options.metrics?.reject(counted, failure.code);
    const told = this.#control?.send({ type: "error", code: failure.code, message: failure.message }).catch(() => undefined);
    if (told) await Promise.race([told, Bun.sleep(ERROR_FLUSH_MS)]);
    await this.end(failure.closeCode, failure.message);
  }

  #publishEnded(reason: string): void {
    if (!this.#sessionId) return;
    try {
      this.#options.bus.publish(subjects.ended(this.#sessionId), encodeJson({ reason } satisfies SessionEnded));
    } catch (err) {
      this.#log.warn({ err }, "could not publish session end");
    }
  }

  async #readControl(): Promise<void> {
    const streams = this.#wt.incomingBidirectionalStreams.getReader();
    try {
      const first = await streams.read();
      if (first.done) return;
      this.#control = new ControlChannel(first.value);
      this.#background("refusing more streams", this.#refuseMoreStreams(streams));
      for await (const message of this.#control.messages()) {
        if (this.#ending) return;
        if (this.#controlRate && !this.#controlRate.take()) {
          throw new SessionFailure("rate_limited", `more than ${this.#options.controlRatePerS} control messages a second`, CLOSE_CODES.limitExceeded);
        }
        await this.#handle(message);
      }
      if (!this.#ending) await this.end(CLOSE_CODES.normal, "the page closed its control stream");
    } catch (err) {
      if (this.#ending) return;
      if (err instanceof SessionFailure) await this.#fail(err);
      else if (err instanceof ProtocolError) await this.#fail(new SessionFailure(err.code, err.message, CLOSE_CODES.protocolError));
      else {
        this.#log.error({ err }, "viewer session crashed");
        await this.#fail(new SessionFailure("internal", "internal error", CLOSE_CODES.backendError));
      }
    }
  }

  /** Only one control stream per session: further ones are cancelled. */
  async #refuseMoreStreams(streams: ReadableStreamDefaultReader<WebTransportBidirectionalStream>): Promise<void> {
    try {
      for (;;) {
        const next = await streams.read();
        if (next.done) return;
        void next.value.readable.cancel().catch(() => undefined);
        void next.value.writable.abort().catch(() => undefined);
      }
    } catch {
      // the session is closing
    }
  }

  async #handle(message: ClientMessage): Promise<void> {
    if (this.#coordinatesOf !== this) throw new ProtocolError("bad_request", "an attached connection carries coordinates only");
    switch (message.type) {
      case "offer":
        return this.#negotiate(message.sdp, message.wtVideo === true, message.settings, message);
      case "resume":
        return this.#resume(message.sessionId, message.token, message.wtVideo === true, message);
      case "attach":
        return this.#attach(message.sessionId, message.token);
      case "control":
        return this.#applyControl(message);
      case "stop":
        await this.end(CLOSE_CODES.normal, "stopped by the viewer");
    }
  }

  async #negotiate(sdp: string | undefined, wtVideo: boolean, requested: Partial<SessionSettings> | undefined, join: ChannelJoin): Promise<void> {
    if (this.#sessionId && this.#renegotiating) return this.#reoffer(this.#sessionId, sdp);
    if (this.#sessionId) throw new ProtocolError("bad_request", "the session already has an offer");
    if (sdp !== undefined) checkOffer(sdp); // before any work for the session: no generator worker, no media request for a bad offer
    const { bus, requestTimeoutMs } = this.#options;
    const sessionId = newSessionId();
    const wanted = parseSettings(requested ?? {}, DEFAULT_SETTINGS);
    if (join.channel !== undefined) return this.#join(sessionId, join.channel, join.ownerToken, sdp, wtVideo, wanted);
    this.#adopt(sessionId, sessionId, wtVideo);
    this.#setLink(wanted.network);
    // Media first: it judges the client's offer, and refusing there costs ~1 ms where a generator worker costs ~80 ms.
    const offer = mediaOfferOf(sessionId, sdp, wanted.network, undefined);
    const answer = await backend("media rejected the offer", requestJson(bus, subjects.mediaOffer, offer, parseMediaOfferAnswer, requestTimeoutMs));
    if (this.#ending) return this.#publishEnded("session ended during negotiation");
    if (this.#video) this.#wantVideo(true); // media's session listens now: no wait for the next heartbeat
    this.#watchMedia(answer.instance);

    const start: StartSessionRequest = { sessionId, settings: wanted };
    const settings = await backend("the generator could not start the session", requestJson(bus, subjects.generatorStart, start, parseSettings, requestTimeoutMs));
    if (this.#ending) return this.#publishEnded("session ended during start");
    this.#settings = settings;
    clearTimeout(this.#offerTimer);
    await this.#send({ type: "session", sessionId, settings, ...this.#resumeToken(sessionId, answer.instance) });
    if (answer.sdp !== undefined) await this.#send({ type: "answer", sdp: answer.sdp });
    this.#startWatchdog();
    this.#log.info({ settings }, "viewer session started");
  }

  /**
   * This session from now on: its id and the source it follows (itself, or its channel's), the source's truths,
   * events and WebTransport video, the heartbeat (of both, for a channel: the source lives while any viewer beats).
   */
  #adopt(sessionId: string, source: string, wtVideo: boolean): void {
    const { bus } = this.#options;
    this.#wtVideo = wtVideo;
    this.#sessionId = sessionId;
    this.#source = source;
    this.#log = this.#log.child({ sessionId, ...(source === sessionId ? {} : { source }) });
    const relayEvent = (msg: { data: Uint8Array }) => this.#background("relaying a session event", this.#onEvent(msg.data));
    // A channel's subjects are every viewer's here: one subscription for all of them when the replica shares them.
    const follow = source !== sessionId && this.#options.channelSubjects ? this.#options.channelSubjects : bus;
    this.#subs.push(follow.subscribe(subjects.truth(source), (msg) => this.#onTruth(msg.data)));
    this.#subs.push(bus.subscribe(subjects.events(sessionId), relayEvent));
    this.#subs.push(bus.subscribe(subjects.resumed(sessionId), (msg) => this.#onResumedElsewhere(msg.data)));
    if (source !== sessionId) {
      this.#subs.push(follow.subscribe(subjects.events(source), relayEvent));
      this.#subs.push(follow.subscribe(subjects.settings(source), (msg) => this.#background("relaying the channel's settings", this.#onChannelSettings(msg.data))));
    }
    if (wtVideo) this.#startVideo(source, follow);
    this.#heartbeat = setInterval(() => this.#beat(), this.#options.heartbeatIntervalMs ?? SESSION_TIMING.heartbeatIntervalMs);
    this.#beat();
  }

  /**
   * Joins channel `name` as viewer `sessionId`: starts the channel's source when it has none (this viewer then owns
   * it) or takes it as it runs (owner only with the owner token), then asks media for this viewer's own peer
   * connection on the channel's access units (or takes them over WebTransport).
   */
  async #join(sessionId: string, name: string, ownerToken: string | undefined, sdp: string | undefined, wtVideo: boolean, wanted: SessionSettings): Promise<void> {
    const { bus, requestTimeoutMs, resumeTokens } = this.#options;
    const source = channelSessionId(name);
    this.#adopt(sessionId, source, wtVideo);
    this.#setLink(wanted.network);
    const channel = await this.#ensureChannel(source, wanted);
    if (this.#ending) return this.#publishEnded("session ended while joining its channel");
    const owner = channel.created || (resumeTokens?.isOwner(source, ownerToken) ?? false);
    let answer: MediaOfferAnswer = {};
    if (sdp !== undefined) {
      const offer = mediaOfferOf(sessionId, sdp, wanted.network, source);
      answer = await backend("media rejected the offer", requestJson(bus, subjects.mediaOffer, offer, parseMediaOfferAnswer, requestTimeoutMs));
      if (this.#ending) return this.#publishEnded("session ended during negotiation");
      this.#watchMedia(answer.instance);
    }
    if (this.#video) this.#wantVideo(true);
    this.#channel = { name, owner };
    this.#settings = { ...channel.settings, network: wanted.network };
    clearTimeout(this.#offerTimer);
    const info = { name, owner, ...(owner && resumeTokens ? { ownerToken: resumeTokens.ownerToken(source) } : {}) };
    await this.#send({ type: "session", sessionId, settings: this.#settings, ...this.#resumeToken(sessionId, answer.instance), channel: info });
    if (answer.sdp !== undefined) await this.#send({ type: "answer", sdp: answer.sdp });
    this.#startWatchdog();
    this.#options.metrics?.channelJoins.inc({ role: owner ? "owner" : "viewer" });
    this.#log.info({ channel: name, owner, created: channel.created }, "viewer joined a channel");
  }

  /**
   * The channel's settings, starting its source (encoder, then generator) when nobody answers for it. Two first
   * viewers at once on two replicas may start two; their claims leave the older (docs/channels.md).
   */
  async #ensureChannel(source: string, wanted: SessionSettings): Promise<{ settings: SessionSettings; created: boolean }> {
    const { bus, requestTimeoutMs } = this.#options;
    const running = () => requestJson(bus, subjects.sessionControl(source), { type: "control" }, parseSettings, requestTimeoutMs);
    try {
      return { settings: await running(), created: false };
    } catch (err) {
      if (!(err instanceof ProtocolError) || err.code !== "unavailable") throw err; // anything but "nobody has it" stands
    }
    const encoder: MediaOfferRequest = { sessionId: source, channelSource: true };
    await backend("media could not start the channel's encoder", requestJson(bus, subjects.mediaOffer, encoder, parseMediaOfferAnswer, requestTimeoutMs));
    const start: StartSessionRequest = { sessionId: source, settings: wanted, channel: true };
    try {
      return { settings: await requestJson(bus, subjects.generatorStart, start, parseSettings, requestTimeoutMs), created: true };
    } catch (err) {
      // Another first viewer started it a moment ago on the generator this request reached.
      if (err instanceof ProtocolError && err.code === "bad_request") return { settings: await backend("the channel's generator does not answer", running()), created: false };
      return backend("the generator could not start the channel", Promise.reject(err));
    }
  }

  /** The owner changed the channel's settings: this viewer's page sees them (its own network setting stays). */
  async #onChannelSettings(data: Uint8Array): Promise<void> {
    const settings = parsedOrUndefined(data, parseSettings);
    if (settings === undefined || this.#settings === undefined || this.#ending) return;
    this.#settings = { ...settings, network: this.#settings.network };
    await this.#control?.send({ type: "settings", settings: this.#settings }).catch(() => undefined);
  }

  /** Another viewer session took this session over (the page resumed it there): this one ends and releases nothing. */
  #onResumedElsewhere(data: Uint8Array): void {
    const by = parsedOrUndefined(data, parseSessionResumed)?.by;
    if (by !== undefined && by !== this.#wt.id) this.#background("ending a session resumed elsewhere", this.end(CLOSE_CODES.normal, "the session was resumed on another connection", true));
  }

  /** The `resumeToken` field of a `session` message (none without tokens); a channel viewer's names its channel. */
  #resumeToken(sessionId: string, media: string | undefined): { resumeToken?: string } {
    const tokens = this.#options.resumeTokens;
    return tokens ? { resumeToken: tokens.issue(sessionId, media, this.#channel?.name) } : {};
  }

  /**
   * A page whose signaling went away takes its session over here: the token must be this session's, and its
   * generator must still answer (it keeps a session for its heartbeat timeout); media's peer connection never
   * stopped, so there is no offer and no answer, only the session, the heartbeat and the truths again.
   */
  async #resume(sessionId: string, token: string, wtVideo: boolean, join: ChannelJoin): Promise<void> {
    if (this.#sessionId) throw new ProtocolError("bad_request", "the session already has an offer");
    const { bus, requestTimeoutMs, resumeTokens } = this.#options;
    const checked = resumeTokens?.check(sessionId, token, join.channel);
    if (!checked) throw new ProtocolError("unknown_session", "this session cannot be resumed here (its token is not valid)");
    const source = join.channel === undefined ? sessionId : channelSessionId(join.channel);
    const running = await requestJson(bus, subjects.sessionControl(source), { type: "control" }, parseSettings, Math.min(1000, requestTimeoutMs)).catch(() => {
      throw new ProtocolError("unknown_session", "this session is gone (its generator no longer has it)");
    });
    if (this.#ending) return;
    // A channel viewer's own network setting lived in its page and its media session; the page sends it again if it had one.
    const settings = join.channel === undefined ? running : { ...running, network: NO_NETWORK };
    const owner = join.channel !== undefined && (resumeTokens?.isOwner(source, join.ownerToken) ?? false);
    if (join.channel !== undefined) this.#channel = { name: join.channel, owner };
    this.#adopt(sessionId, source, wtVideo);
    this.#settings = settings;
    this.#setLink(settings.network);
    clearTimeout(this.#offerTimer);
    this.#watchMedia(checked.media);
    if (this.#video) this.#wantVideo(true);
    bus.publish(subjects.resumed(sessionId), encodeJson({ by: this.#wt.id } satisfies SessionResumed));
    const channel = join.channel === undefined ? {} : { channel: { name: join.channel, owner, ...(owner ? { ownerToken: join.ownerToken! } : {}) } };
    await this.#send({ type: "session", sessionId, settings, resumeToken: token, ...channel });
    this.#startWatchdog();
    this.#options.metrics?.sessionsResumed.inc();
    this.#log.info({ settings, media: checked.media }, "viewer session resumed");
  }

  /**
   * Makes this connection (a page's detection worker's) carry the coordinates of running session `sessionId`, whose
   * `session` message gave `token`; its error reports stay on that session's connection. Beyond {@link MAX_ATTACHED}
   * a newer attach replaces the oldest.
   */
  async #attach(sessionId: string, token: string): Promise<void> {
    if (this.#sessionId) throw new ProtocolError("bad_request", "the session already has an offer");
    const target = this.#options.attach?.find(sessionId);
    if (!target || target.#ending || target.#coordinatesOf !== target) throw new ProtocolError("unknown_session", "no such session runs on this server");
    if (!this.#options.resumeTokens?.check(sessionId, token, target.#channel?.name)) throw new ProtocolError("forbidden", "the token is not this session's");
    clearTimeout(this.#offerTimer);
    this.#coordinatesOf = target;
    const replaced = target.#attached.length >= MAX_ATTACHED ? target.#attached.shift() : undefined;
    if (replaced) target.#unlink(replaced.#wt.remoteAddress);
    target.#attached.push(this);
    // the page's own link (its network setting) carries this connection's datagrams too: they are the page's uplink
    if (target.#link) this.#options.peerLinks?.set(this.#wt.remoteAddress, target.#link);
    if (replaced) this.#background("closing a replaced attached connection", replaced.end(CLOSE_CODES.normal, "replaced by a newer attached connection"));
    this.#log = this.#log.child({ attachedTo: sessionId });
    this.#options.attach?.attached(this);
    await this.#send({ type: "attached", sessionId });
    this.#log.info("coordinates connection attached");
  }

  /**
   * The page's new offer after {@link #renegotiate}: another media replica (the queue group picks one; the old one
   * is gone or has left the group) answers for the same session, whose generator never stopped.
   */
  async #reoffer(sessionId: string, sdp: string | undefined): Promise<void> {
    if (sdp !== undefined) checkOffer(sdp);
    if (sdp === undefined && !this.#wtVideo) throw new ProtocolError("bad_request", "the new offer names no video path");
    const offer = mediaOfferOf(sessionId, sdp, this.#settings?.network, this.#channel ? this.#source : undefined);
    const answer = await backend("no media replica took the session over", requestJson(this.#options.bus, subjects.mediaOffer, offer, parseMediaOfferAnswer, this.#options.requestTimeoutMs));
    if (this.#ending) return;
    this.#renegotiating = false;
    this.#watchMedia(answer.instance);
    if (this.#video) this.#wantVideo(true);
    if (answer.sdp !== undefined) await this.#send({ type: "answer", sdp: answer.sdp });
    this.#log.info({ media: answer.instance }, "video renegotiated with another media replica");
  }

  /** Follows the liveness of the media replica that answered (none: an answer without an instance is not watched). */
  #watchMedia(instance: string | undefined): void {
    this.#unwatchMedia();
    if (instance === undefined || this.#options.mediaTakeoverAfterMs === undefined) return;
    const media = {
      instance,
      lastAliveMs: nowMs(),
      sub: this.#options.bus.subscribe(subjects.mediaAlive(instance), (msg) => {
        media.lastAliveMs = nowMs();
        if (parsedOrUndefined(msg.data, parseMediaAlive)?.leaving) this.#background("renegotiating", this.#renegotiate("leaving", `the media replica ${instance} is stopping`));
      }),
    };
    this.#media = media;
  }

  #unwatchMedia(): void {
    this.#media?.sub.unsubscribe();
    this.#media = undefined;
  }

  /** Asks the page for a new offer, to be answered by another media replica (the session and its generator go on). */
  async #renegotiate(reason: "silent" | "leaving", message: string): Promise<void> {
    if (this.#renegotiating || this.#ending) return;
    this.#renegotiating = true;
    this.#unwatchMedia();
    this.#options.metrics?.mediaRenegotiations.inc({ reason });
    this.#log.warn({ reason }, `${message}: asking the page to renegotiate`);
    await this.#send({ type: "renegotiate", reason: `${message}; moving the video to another replica` });
  }

  /**
   * Relays the page's live change to the generator as it came, and tells the page the settings now in force. In a
   * channel the network setting is the viewer's own (its media session and link only), and only the owner may
   * change the rest, which every viewer then sees.
   */
  async #applyControl(control: ControlMessage): Promise<void> {
    if (!this.#sessionId || !this.#source || !this.#settings) throw new ProtocolError("bad_request", "control before the session started");
    let settings: SessionSettings;
    if (this.#channel !== undefined) {
      const { network, ...channelWide } = control;
      if (Object.keys(channelWide).length > 1 && !this.#channel.owner) throw new ProtocolError("forbidden", `only the owner of channel ${this.#channel.name} may change its fps and speed`);
      const running = Object.keys(channelWide).length > 1 ? await this.#controlSource(channelWide) : this.#settings;
      settings = { ...running, network: network ?? this.#settings.network };
    } else {
      settings = await this.#controlSource(control);
    }
    this.#settings = settings;
    if (control.network !== undefined) {
      this.#setLink(settings.network);
      this.#options.bus.publish(subjects.network(this.#sessionId), encodeJson(settings.network));
    }
    await this.#send({ type: "settings", settings });
  }

  /** A live change to the generator of the source this viewer follows; the settings in force after it. */
  #controlSource(control: ControlMessage): Promise<SessionSettings> {
    return backend("the generator could not apply the change", requestJson(this.#options.bus, subjects.sessionControl(this.#source!), control, parseSettings, this.#options.requestTimeoutMs));
  }

  /** Puts the page's network setting on this session's packets at signaling (media gets it over the bus). */
  #setLink(network: NetworkSettings): void {
    const { peerLinks } = this.#options;
    const net = netConditionsOf(network);
    if (peerLinks === undefined || (this.#link === undefined && net.egress === undefined && net.ingress === undefined)) return;
    this.#link ??= new SessionLink(this.#options.metrics?.net);
    for (const address of this.#linkAddresses()) peerLinks.set(address, this.#link);
    this.#link.set(net);
    this.#log.info(netLog(net), "session network set");
  }

  #closeLink(): void {
    if (this.#link === undefined) return;
    for (const address of this.#linkAddresses()) this.#unlink(address);
    this.#link.close();
  }

  /** The page's addresses on signaling's socket: its own connection's, and its attached connection's. */
  #linkAddresses(): string[] {
    return [this.#wt.remoteAddress, ...this.#attached.map((a) => a.#wt.remoteAddress)];
  }

  /** Takes this session's link off `address` (unless another session's link is there now). */
  #unlink(address: string): void {
    const { peerLinks } = this.#options;
    if (peerLinks && this.#link && peerLinks.get(address) === this.#link) peerLinks.delete(address);
  }

  async #send(message: ServerMessage): Promise<void> {
    try {
      await this.#control?.send(message);
    } catch {
      throw new SessionFailure("unavailable", "the control stream is closed", CLOSE_CODES.protocolError);
    }
  }

  #beat(): void {
    try {
      this.#options.bus.publish(subjects.heartbeat(this.#sessionId!), new Uint8Array(0));
      if (this.#source !== this.#sessionId) this.#options.bus.publish(subjects.heartbeat(this.#source!), new Uint8Array(0));
      if (this.#video) this.#wantVideo(this.#video.needsKeyframe);
    } catch (err) {
      this.#log.warn({ err }, "heartbeat not published");
    }
  }

  /** The WebTransport video path: media's access units of `source` (heard through `follow`) → this viewer's unidirectional streams. */
  #startVideo(source: string, follow: Pick<Bus, "subscribe">): void {
    const video = new VideoSender({
      openStream: () => this.#wt.createUnidirectionalStream(),
      wantKeyframe: () => this.#wantVideo(true),
      ...(this.#options.wtVideo ?? DEFAULT_WT_VIDEO),
      now: nowMs,
    });
    this.#video = video;
    this.#subs.push(follow.subscribe(subjects.video(source), (msg) => video.push(msg.data)));
  }

  /** Tells media to keep publishing the source's access units (with a keyframe now when `keyframe`). */
  #wantVideo(keyframe: boolean): void {
    try {
      this.#options.bus.publish(subjects.videoWanted(this.#source!), encodeJson({ keyframe } satisfies VideoWanted));
    } catch (err) {
      this.#log.warn({ err }, "videoWanted not published");
    }
  }

  /**
   * Checks every quarter of the shorter timeout that truths still arrive and, once the page has sent
   * coordinates, that they still do: otherwise the generator, media or the bus is gone, and the page is told.
   */
  #startWatchdog(): void {
    const { truthTimeoutMs, videoTimeoutMs, takeoverAfterMs, mediaTakeoverAfterMs } = this.#options;
    const shortest = Math.min(truthTimeoutMs ?? Infinity, videoTimeoutMs ?? Infinity, takeoverAfterMs ?? Infinity, mediaTakeoverAfterMs ?? Infinity);
    if (!Number.isFinite(shortest)) return;
    this.#lastTruthMs = Math.max(this.#lastTruthMs, nowMs());
    const intervalMs = Math.max(50, shortest / 4);
    const stalls = new OwnStalls(intervalMs, nowMs());
    this.#watchdog = setInterval(() => {
      const now = nowMs();
      const stalledMs = stalls.tick(now);
      if (stalledMs > 0) this.#excuseStall(stalledMs, now);
      const silentMs = now - this.#lastTruthMs;
      if (takeoverAfterMs !== undefined && !this.#triedTakeover && silentMs > Math.max(takeoverAfterMs, 3000 / (this.#settings?.fps ?? 30))) {
        this.#background("taking the generator over", this.#takeover());
      }
      const media = this.#media;
      if (media !== undefined && mediaTakeoverAfterMs !== undefined && now - media.lastAliveMs > mediaTakeoverAfterMs) {
        this.#background("renegotiating", this.#renegotiate("silent", `the media replica ${media.instance} went silent for ${Math.round(now - media.lastAliveMs)} ms`));
      }
      if (truthTimeoutMs !== undefined && now - this.#lastTruthMs > truthTimeoutMs) {
        this.#stalled(`no frames from the generator for ${truthTimeoutMs} ms: the generator or the bus is down`);
      } else if (videoTimeoutMs !== undefined && this.#lastCoordinatesMs > 0 && now - this.#lastCoordinatesMs > videoTimeoutMs) {
        this.#stalled(`the page has shown no new frame for ${videoTimeoutMs} ms: the media service or the bus is down`);
      }
    }, intervalMs);
  }

  /** This process was held up `stalledMs` ({@link OwnStalls}): that time counts as silence of no peer. */
  #excuseStall(stalledMs: number, now: number): void {
    this.#lastTruthMs = excuse(this.#lastTruthMs, stalledMs, now);
    if (this.#lastCoordinatesMs > 0) this.#lastCoordinatesMs = excuse(this.#lastCoordinatesMs, stalledMs, now);
    if (this.#media) this.#media.lastAliveMs = excuse(this.#media.lastAliveMs, stalledMs, now);
    this.#log.debug({ stalledMs: Math.round(stalledMs) }, "the watchdog ran late: this process was held up, its peers' silence meanwhile not counted");
  }

  #stalled(message: string): void {
    clearInterval(this.#watchdog);
    this.#options.metrics?.reject("session", "stalled");
    this.#background("ending a stalled session", this.#fail(new SessionFailure("stalled", message, CLOSE_CODES.backendError)));
  }

  /**
   * The generator went silent: asks the old one to stop (it may be alive but cut off; dead, nobody answers), then
   * any replica to start the session again from the last truth (the ball where it would be, frame ids going on).
   * On failure the truth timeout ends the session as before.
   */
  async #takeover(): Promise<void> {
    const last = this.#ring.latest;
    const sessionId = this.#source;
    if (this.#takingOver || last === undefined || sessionId === undefined || this.#settings === undefined || this.#ending) return;
    this.#takingOver = this.#triedTakeover = true;
    const { bus, requestTimeoutMs, metrics } = this.#options;
    const silentMs = Math.round(nowMs() - this.#lastTruthMs);
    try {
      await requestJson(bus, subjects.sessionControl(sessionId), { type: "stop" }, parseSettings, Math.min(500, requestTimeoutMs)).catch(() => undefined);
      const start: StartSessionRequest = { sessionId, settings: this.#settings, resume: resumeAfter(last), ...(this.#channel ? { channel: true as const } : {}) };
      this.#settings = await requestJson(bus, subjects.generatorStart, start, parseSettings, requestTimeoutMs);
      this.#lastTruthMs = nowMs(); // the new worker's first truth is on its way: the truth timeout starts again
      metrics?.generatorTakeovers.inc({ outcome: "ok" });
      this.#log.warn({ silentMs, nextFrameId: start.resume!.nextFrameId }, "generator silent: another replica took the session over");
      await this.#control?.send({ type: "event", source: "signaling", message: `the generator went silent for ${silentMs} ms; another replica took over, the ball continues`, fatal: false }).catch(() => undefined);
    } catch (err) {
      metrics?.generatorTakeovers.inc({ outcome: "failed" });
      this.#log.warn({ err, silentMs }, "generator silent and no replica took the session over");
    } finally {
      this.#takingOver = false;
    }
  }

  #onTruth(data: Uint8Array): void {
    this.#lastTruthMs = nowMs();
    this.#triedTakeover = false;
    try {
      this.#ring.add(decodeTruth(data));
    } catch (err) {
      if (this.stats.badTruths++ === 0) this.#log.warn({ err }, "malformed truth dropped");
    }
    if (this.#awaiting.length > 0) this.#answerAwaiting(false);
  }

  /** Answers the waiting coordinates whose truth came (or that no truth will come for now), or all of them (`all`). */
  #answerAwaiting(all: boolean): void {
    const due: AwaitingTruth[] = [];
    const left: AwaitingTruth[] = [];
    for (const w of this.#awaiting) (all || !this.#ring.awaits(w.coordinates.rtpTimestamp) ? due : left).push(w);
    if (due.length === 0) return;
    this.#awaiting = left;
    if (left.length === 0) {
      clearTimeout(this.#awaitTimer);
      this.#awaitTimer = undefined;
    }
    for (const w of due) this.#reply(this.#report(w.coordinates, w.arrivalMs));
  }

  async #onEvent(data: Uint8Array): Promise<void> {
    let event;
    try {
      event = parseSessionEvent(decodeJson(data));
    } catch (err) {
      this.#log.warn({ err }, "malformed session event dropped");
      return;
    }
    this.#log.info({ event }, "session event");
    await this.#control?.send({ type: "event", ...event }).catch(() => undefined);
    if (event.fatal) await this.end(CLOSE_CODES.backendError, `${event.source}: ${event.message}`);
  }

  async #readDatagrams(): Promise<void> {
    const reader = this.#wt.datagrams.readable.getReader();
    const writer = (this.#datagramWriter = this.#wt.datagrams.writable.getWriter());
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done || this.#ending) return;
        const to = this.#coordinatesOf;
        to.#reply(to.#answerCoordinates(next.value));
      }
    } catch {
      // the session is closing
    } finally {
      this.#datagramWriter = undefined;
      reader.releaseLock();
      writer.releaseLock();
    }
  }

  #reply(report: Uint8Array | undefined): void {
    if (report && !this.#ending) this.#datagramWriter?.write(report).catch(() => undefined);
  }

  /**
   * The error report datagram answering one coordinates datagram, if it is well-formed and a truth is known; none
   * yet when the frame's truth is still on its way (the report goes when it comes, or after {@link TRUTH_WAIT_MS}).
   */
  #answerCoordinates(data: Uint8Array): Uint8Array | undefined {
    const arrivalMs = nowMs();
    if (this.#datagramRate && !this.#datagramRate.take()) {
      if (this.stats.rateLimitedDatagrams++ === 0) this.#log.warn({ max: this.#options.datagramRatePerS }, "datagram rate limit reached: dropping datagrams");
      this.#options.metrics?.reject("datagram", "rate_limited");
      return undefined;
    }
    let coordinates;
    try {
      coordinates = decodeCoordinates(data);
    } catch (err) {
      this.stats.malformedDatagrams++;
      this.#options.metrics?.reject("datagram", err instanceof ProtocolError ? err.code : "internal");
      return undefined;
    }
    this.stats.coordinates++;
    this.#lastCoordinatesMs = arrivalMs;
    if (this.#ring.awaits(coordinates.rtpTimestamp) && this.#awaiting.length < MAX_AWAITING) {
      this.#awaiting.push({ coordinates, arrivalMs });
      this.#awaitTimer ??= setTimeout(() => {
        this.#awaitTimer = undefined;
        this.#answerAwaiting(true);
      }, TRUTH_WAIT_MS);
      return undefined;
    }
    return this.#report(coordinates, arrivalMs);
  }

  /** The error report datagram for coordinates that arrived at `arrivalMs`, once a truth is known. */
  #report(coordinates: Coordinates, arrivalMs: number): Uint8Array | undefined {
    const report = buildErrorReport(coordinates, arrivalMs, this.#ring);
    if (!report) return undefined;
    this.stats.reports++;
    this.#options.metrics?.observeReport(report);
    return encodeErrorReport(report);
  }
}

/** Coordinates that wait for their frame's truth, with their arrival time (epoch ms). */
interface AwaitingTruth {
  readonly coordinates: Coordinates;
  readonly arrivalMs: number;
}

/**
 * Connections attached to one session at most: one detection worker per video path (`?transport=both` runs two); a
 * further attach (a renegotiated track's new worker) replaces the oldest.
 */
const MAX_ATTACHED = 2;

/** Coordinates held for their truth at most (a few frames; more are answered at once, unmatched). */
const MAX_AWAITING = 8;

/** Session failures counted as rejected messages, by close code: where the offending input came in. */
const REJECTED_BY_CLOSE_CODE: Partial<Record<number, RejectedKind>> = {
  [CLOSE_CODES.protocolError]: "control",
  [CLOSE_CODES.limitExceeded]: "control",
  [CLOSE_CODES.idleTimeout]: "session",
};

/** Awaits a bus request; its {@link ProtocolError} becomes a {@link SessionFailure} that says which step failed. */
async function backend<T>(what: string, request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (err) {
    if (err instanceof ProtocolError) {
      // "not now" keeps its meaning in the close code too: the page may see the close before the error message
      const closeCode = err.code === "unavailable" || err.code === "timeout" ? CLOSE_CODES.unavailable : CLOSE_CODES.backendError;
      throw new SessionFailure(err.code, `${what}: ${err.message}`, closeCode);
    }
    throw err;
  }
}
