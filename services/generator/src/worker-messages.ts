/** What the main thread and a session's worker say to each other (internal to the generator). */
import type { ControlMessage, SessionResume, SessionSettings } from "@ballstream/protocol";
import type { FrameCompression } from "@ballstream/runtime";

/**
 * Main thread → worker. The worker starts its clock and schedule when it receives `start`; a live change is the
 * viewer's {@link ControlMessage} itself.
 */
export type ToWorker =
  | {
      readonly type: "start";
      readonly sessionId: string;
      readonly settings: SessionSettings;
      readonly compression: FrameCompression;
      /** The bus's max payload: larger frames are split into chunks (`splitFrame`). */
      readonly maxMessageBytes: number;
      /** A takeover: continue this trajectory and frame numbering. */
      readonly resume?: SessionResume;
    }
  | ControlMessage
  | { readonly type: "stop" };

/**
 * Worker → main thread. `frames` (the frame, whole or in chunks) and `truth` are encoded bus messages whose
 * buffers were transferred; `skipped` counts the schedule slots dropped just before this frame.
 */
export type FromWorker =
  | { readonly type: "frame"; readonly frames: Uint8Array[]; readonly truth: Uint8Array; readonly captureTimeMs: number; readonly skipped: number }
  | { readonly type: "stopped" };
