/**
 * The worker thread of one session: paces frames from an absolute schedule (a timer armed slightly early, then a
 * short precise block; see precise-wait.ts), draws each one and posts the encoded frame and truth to the main
 * thread (buffers transferred, not copied), which publishes them on the bus.
 */
import { nowMs } from "@ballstream/protocol";
import { splitFrame } from "@ballstream/runtime/frames";
import { FrameRenderer } from "./renderer.ts";
import { blockFor, planWait } from "./precise-wait.ts";
import { FrameSchedule } from "./schedule.ts";
import type { FromWorker, ToWorker } from "./worker-messages.ts";

declare const self: Worker;

let renderer: FrameRenderer | undefined;
let schedule: FrameSchedule | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
let maxMessageBytes = Infinity;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

/** Arms the timer for the next slot: `leadMs` before it, or at once if the slot is that close. */
function arm(): void {
  if (!schedule) return;
  const step = planWait(schedule.nextDueMs - nowMs());
  timer = setTimeout(tick, step.kind === "timer" ? step.ms : 0);
}

/** Runs on the timer: re-arms if woken too early, otherwise blocks precisely until the slot and takes the frame. */
function tick(): void {
  if (!renderer || !schedule) return;
  const step = planWait(schedule.nextDueMs - nowMs());
  if (step.kind === "timer") return arm();
  if (step.kind === "block") blockFor(step.ms);
  const due = schedule.take(nowMs());
  if (due) {
    const r = renderer.render(due.captureTimeMs);
    const frames = splitFrame(r.frame, maxMessageBytes);
    post({ type: "frame", frames, truth: r.truth, captureTimeMs: due.captureTimeMs, skipped: due.skipped }, [...frames.map((f) => f.buffer), r.truth.buffer]);
  }
  arm();
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  switch (m.type) {
    case "start": {
      const startMs = nowMs();
      renderer = new FrameRenderer(m.sessionId, m.settings, startMs, m.compression, m.resume);
      maxMessageBytes = m.maxMessageBytes;
      schedule = new FrameSchedule(startMs, m.settings.fps);
      tick();
      break;
    }
    case "control": {
      const now = nowMs();
      renderer?.update(m, now);
      if (m.fps !== undefined && schedule) {
        schedule.setFps(m.fps, now);
        clearTimeout(timer);
        tick();
      }
      break;
    }
    case "stop":
      clearTimeout(timer);
      renderer = undefined;
      schedule = undefined;
      post({ type: "stopped" });
      break;
  }
};
