/**
 * The page session's state and the one place it changes: {@link SessionStore} turns what happened (opened,
 * streaming, a detection, a report, a failure…) into the new state and tells its listener. The session only calls
 * these; the view and the test hook only read {@link SessionStore.state}. Status moves forward only:
 * idle → connecting → streaming, and from any of those to closed or error, where it stays.
 */
import type { SessionSettings, Coordinates, ErrorReport } from "@ballstream/protocol";
import { describeClose } from "./failures.ts";
import { type InboundStats, NO_INBOUND_STATS } from "./inbound-stats.ts";

/** Lifecycle of the page's session. */
export type SessionStatus = "idle" | "connecting" | "streaming" | "closed" | "error";

/** How frames reach the detector: exact decoded frames in a worker, or the video element on the main thread. */
export type DetectionPath = "worker-videoframe" | "main-thread-canvas";

/** Everything the UI and the test hook show. */
export interface SessionState {
  status: SessionStatus;
  sessionId: string | null;
  error: string | null;
  closeCode: number | null;
  closeReason: string | null;
  settings: SessionSettings | null;
  detectionPath: DetectionPath | null;
  framesDetected: number;
  framesSent: number;
  reportsReceived: number;
  lastReport: ErrorReport | null;
  lastDetection: Coordinates | null;
  /** Presentation minus capture of the newest sample whose frame's presentation is known. */
  glassToGlassMs: number | null;
  inbound: InboundStats;
  events: string[];
}

/** Events kept for the view (oldest dropped). */
export const MAX_EVENTS = 20;

/** How far along each status is; closed and error are both the end. */
const ORDER: Record<SessionStatus, number> = { idle: 0, connecting: 1, streaming: 2, closed: 3, error: 3 };

/** Holds one session's state; every change goes through one of its methods, which then calls `onChange`. */
export class SessionStore {
  readonly #state: SessionState = {
    status: "idle",
    sessionId: null,
    error: null,
    closeCode: null,
    closeReason: null,
    settings: null,
    detectionPath: null,
    framesDetected: 0,
    framesSent: 0,
    reportsReceived: 0,
    lastReport: null,
    lastDetection: null,
    glassToGlassMs: null,
    inbound: NO_INBOUND_STATS,
    events: [],
  };
  readonly #onChange: () => void;

  /** `onChange`: called after every change (the view throttles what it does with it). */
  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  /** The live state (one object, changed in place; read it, never write it). */
  get state(): Readonly<SessionState> {
    return this.#state;
  }

  /** Whether the session has ended. */
  get ended(): boolean {
    return ORDER[this.#state.status] === ORDER.closed;
  }

  /** Started connecting. */
  connecting(): void {
    this.#update({}, "connecting");
  }

  /** The server opened the session. */
  opened(sessionId: string, settings: SessionSettings): void {
    this.#update({ sessionId, settings });
  }

  /** The answer is applied: the video is on its way. */
  streaming(): void {
    this.#update({}, "streaming");
  }

  /** The server's effective settings after a change. */
  settingsChanged(settings: SessionSettings): void {
    this.#update({ settings });
  }

  /** An event for the view's list ("source: message"). */
  event(text: string): void {
    this.#update({ events: [...this.#state.events, text].slice(-MAX_EVENTS) });
  }

  /** How frames reach the detector. */
  detecting(detectionPath: DetectionPath): void {
    this.#update({ detectionPath });
  }

  /** The detector finished a frame. */
  detected(coordinates: Coordinates): void {
    this.#update({ framesDetected: this.#state.framesDetected + 1, lastDetection: coordinates });
  }

  /** A Coordinates datagram went out. */
  sent(): void {
    this.#update({ framesSent: this.#state.framesSent + 1 });
  }

  /** An error report arrived. */
  reported(report: ErrorReport): void {
    this.#update({ reportsReceived: this.#state.reportsReceived + 1, lastReport: report });
  }

  /** A sample's glass-to-glass latency (null: its frame's presentation is not known; nothing changes). */
  glassToGlass(glassToGlassMs: number | null): void {
    if (glassToGlassMs !== null) this.#update({ glassToGlassMs });
  }

  /** The receiver's newest `getStats()` summary. */
  inbound(inbound: InboundStats): void {
    this.#update({ inbound });
  }

  /** Ends the session with `message` (status error); false if it had already ended. */
  failed(message: string): boolean {
    return this.#end({ error: message }, "error");
  }

  /** Ends the session with the transport's close code and reason (status closed; a non-zero code is an error). */
  closed(closeCode: number, closeReason: string): boolean {
    return this.#end({ closeCode, closeReason, error: closeCode === 0 ? null : describeClose(closeCode, closeReason) }, "closed");
  }

  #end(change: Partial<SessionState>, status: "closed" | "error"): boolean {
    if (this.ended) return false;
    this.#update(change, status);
    return true;
  }

  /** The one place the state changes; `status` only moves forward and never leaves an end. */
  #update(change: Partial<SessionState>, status?: SessionStatus): void {
    if (this.ended) return;
    Object.assign(this.#state, change);
    if (status && ORDER[status] > ORDER[this.#state.status]) this.#state.status = status;
    this.#onChange();
  }
}
