/**
 * One generator session on the main thread: owns the session's worker, publishes what it draws, serves the
 * session's control subject, and ends the session on `stop`, on `ended`, on a heartbeat timeout or when the
 * worker dies (then with a fatal {@link SessionEvent} so signaling can tell the viewer). Whatever ends it, the
 * worker is terminated and every subscription and timer released.
 */
import { type Bus, type BusSubscription, type FrameCompression, type Logger, SessionClaim, decodeTruth, publishSessionEvent, requestJson, resumeAfter, serveJson } from "@ballstream/runtime";
import { type GeneratorMetrics } from "./metrics.ts";
import { type SessionControl, type SessionResume, type SessionSettings, type StartSessionRequest, applyUpdate, decodeJson, encodeJson, nowMs, parseSessionControl, parseSessionEnded, parseSettings, subjects } from "@ballstream/protocol";
import type { FromWorker, ToWorker } from "./worker-messages.ts";

/** How long a stopping worker may take to acknowledge before it is terminated anyway. */
const STOP_ACK_TIMEOUT_MS = 1000;
/** How long a hand-over waits for another replica to take the session. */
const HAND_OVER_TIMEOUT_MS = 2000;

/** What a session needs from its service. */
export interface SessionContext {
  readonly bus: Bus;
  readonly log: Logger;
  readonly metrics: GeneratorMetrics;
  readonly heartbeatTimeoutMs: number;
  readonly frameCompression: FrameCompression;
  readonly workerUrl: URL;
  /** The service replica's instance id (a channel's claim names it). */
  readonly instance: string;
  /** Called once when the session has fully ended (worker gone, subscriptions released). */
  readonly onEnded: (session: GeneratorSession) => void;
}

/** A running session. */
export class GeneratorSession {
  readonly id: string;
  #settings: SessionSettings;
  readonly #ctx: SessionContext;
  readonly #log: Logger;
  readonly #worker: Worker;
  readonly #subs: BusSubscription[];
  readonly #workerClosed: Promise<void>;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  #stopping: Promise<void> | undefined;
  #stoppedAck: (() => void) | undefined;
  #frames = 0;
  /** A channel source's claim (the younger of two generators of one channel stops), when it is one. */
  readonly #claim: SessionClaim | undefined;
  /** The truth last published (encoded), for a hand-over. */
  #lastTruth: Uint8Array | undefined;

  /**
   * Starts the worker (continuing `resume`'s trajectory for a takeover) and subscribes to the session's subjects
   * before returning; a `channel` source claims the channel too.
   */
  constructor(id: string, settings: SessionSettings, ctx: SessionContext, { resume, channel }: { readonly resume?: SessionResume; readonly channel?: true } = {}) {
    this.id = id;
    this.#settings = settings;
    this.#ctx = ctx;
    this.#log = ctx.log.child({ sessionId: id });
    const worker = new Worker(ctx.workerUrl.href);
    this.#worker = worker;
    this.#workerClosed = new Promise((resolve) => worker.addEventListener("close", () => resolve(), { once: true }));
    void this.#workerClosed.then(() => {
      if (!this.#stopping) this.#fail("frame worker exited unexpectedly");
    });
    worker.onmessage = (event: MessageEvent<FromWorker>) => this.#onWorkerMessage(event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(`frame worker crashed: ${event.message}`);
    };
    const { bus, log } = ctx;
    this.#subs = [
      serveJson(bus, subjects.sessionControl(id), parseSessionControl, (c) => this.control(c), this.#log),
      bus.subscribe(subjects.heartbeat(id), () => this.#armHeartbeat()),
      bus.subscribe(subjects.ended(id), (msg) => {
        let reason = "ended";
        try {
          reason = parseSessionEnded(decodeJson(msg.data)).reason;
        } catch (err) {
          log.warn({ err, sessionId: id }, "malformed ended message; ending the session anyway");
        }
        void this.stop(`ended by signaling: ${reason}`);
      }),
    ];
    this.#armHeartbeat();
    this.#claim = channel ? new SessionClaim(bus, id, "generator", ctx.instance, this.#log, () => void this.stop("another replica generates this channel")) : undefined;
    ctx.metrics.activeSessions.inc();
    this.#post({ type: "start", sessionId: id, settings, compression: ctx.frameCompression, maxMessageBytes: ctx.bus.maxPayload, ...(resume ? { resume } : {}) });
    this.#log.info({ settings, ...(resume ? { takeover: { nextFrameId: resume.nextFrameId } } : {}) }, resume ? "session taken over" : "session started");
  }

  /** The session's current settings. */
  get settings(): SessionSettings {
    return this.#settings;
  }

  /** Applies a live change (passed on to the worker as it came) or stops the session; returns the settings in force afterwards. */
  async control(c: SessionControl): Promise<SessionSettings> {
    if (c.type === "stop") {
      await this.stop("stopped by control request");
      return this.#settings;
    }
    if (this.#stopping) return this.#settings;
    this.#settings = applyUpdate(this.#settings, c);
    this.#post(c);
    if (Object.keys(c).length > 1) this.#log.info({ settings: this.#settings }, "session updated");
    if (Object.keys(c).length > 1) this.#publishSettings(); // an empty change is a question ("are you there?"), not news
    return this.#settings;
  }

  /** Tells whoever follows the session (a channel's viewers) the settings in force. */
  #publishSettings(): void {
    try {
      this.#ctx.bus.publish(subjects.settings(this.id), encodeJson(this.#settings));
    } catch (err) {
      this.#log.warn({ err }, "settings not published");
    }
  }

  /**
   * Graceful hand-over (the generator is shutting down): stops this session's worker, then asks another replica
   * (queue group `generator`, which this one has left) to continue it from its last truth, as a takeover does.
   * Resolves whether one took it; signaling sees a gap of about one request and a worker start.
   */
  async handOver(): Promise<boolean> {
    await this.stop("handed over to another replica");
    if (this.#lastTruth === undefined) return false;
    const truth = decodeTruth(this.#lastTruth);
    const request: StartSessionRequest = { sessionId: this.id, settings: this.#settings, resume: resumeAfter(truth), ...(this.#claim ? { channel: true as const } : {}) };
    try {
      await requestJson(this.#ctx.bus, subjects.generatorStart, request, parseSettings, HAND_OVER_TIMEOUT_MS);
      this.#log.info({ nextFrameId: request.resume!.nextFrameId }, "session handed over");
      return true;
    } catch (err) {
      this.#log.warn({ err }, "no replica took the session over");
      return false;
    }
  }

  /** Ends the session: stops and terminates the worker, releases subscriptions and timers. Idempotent. */
  stop(reason: string): Promise<void> {
    this.#stopping ??= this.#shutdown(reason);
    return this.#stopping;
  }

  async #shutdown(reason: string): Promise<void> {
    clearTimeout(this.#heartbeatTimer);
    this.#claim?.release();
    for (const s of this.#subs) s.unsubscribe();
    const acknowledged = new Promise<void>((resolve) => {
      this.#stoppedAck = resolve;
      setTimeout(resolve, STOP_ACK_TIMEOUT_MS);
    });
    this.#post({ type: "stop" });
    await Promise.race([acknowledged, this.#workerClosed]);
    this.#worker.terminate();
    const workerClosed = await Promise.race([this.#workerClosed.then(() => true), Bun.sleep(STOP_ACK_TIMEOUT_MS).then(() => false)]);
    this.#ctx.metrics.activeSessions.dec();
    this.#log.info({ reason, frames: this.#frames, workerClosed }, "session ended");
    this.#ctx.onEnded(this);
  }

  #post(message: ToWorker): void {
    try {
      this.#worker.postMessage(message);
    } catch (err) {
      this.#log.warn({ err, type: message.type }, "could not reach the frame worker");
    }
  }

  #armHeartbeat(): void {
    clearTimeout(this.#heartbeatTimer);
    const timeout = this.#ctx.heartbeatTimeoutMs;
    this.#heartbeatTimer = setTimeout(() => void this.stop(`no heartbeat for ${timeout} ms`), timeout);
  }

  #onWorkerMessage(m: FromWorker): void {
    if (m.type === "stopped") {
      this.#stoppedAck?.();
      return;
    }
    if (this.#stopping) return;
    const { bus, metrics } = this.#ctx;
    try {
      for (const message of m.frames) bus.publish(subjects.frames(this.id), message);
      bus.publish(subjects.truth(this.id), m.truth);
      this.#lastTruth = m.truth;
    } catch (err) {
      this.#log.error({ err }, "could not publish a frame; ending the session");
      void this.stop("publishing failed");
      return;
    }
    this.#frames++;
    metrics.framesProduced.inc();
    if (m.skipped > 0) metrics.framesSkipped.inc(m.skipped);
    if (nowMs() - m.captureTimeMs > 1000 / this.#settings.fps) metrics.framesLate.inc();
  }

  #fail(message: string): void {
    if (this.#stopping) return;
    this.#log.error({ reason: message }, "session failed");
    publishSessionEvent(this.#ctx.bus, this.id, { source: "generator", message, fatal: true }, this.#log);
    void this.stop(message);
  }
}
