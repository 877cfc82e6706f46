/** What the main thread and a session's worker say to each other (internal to the generator). */
import type { FrameCompression, SessionSettings } from "@ballstream/shared";

/** Main thread → worker. The worker starts its clock and schedule when it receives `start`. */
export type ToWorker =
  | { readonly type: "start"; readonly sessionId: string; readonly settings: SessionSettings; readonly compression: FrameCompression }
  | { readonly type: "update"; readonly fps?: number; readonly speed?: number }
  | { readonly type: "stop" };

/**
 * Worker → main thread. `frame` and `truth` are encoded bus messages whose buffers were transferred; `skipped`
 * counts the schedule slots dropped just before this frame.
 */
export type FromWorker =
  | { readonly type: "frame"; readonly frame: Uint8Array; readonly truth: Uint8Array; readonly captureTimeMs: number; readonly skipped: number }
  | { readonly type: "stopped" };
