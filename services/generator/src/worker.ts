/**
 * The worker thread of one session: paces frames from an absolute schedule, draws each one and posts the encoded
 * frame and truth to the main thread (buffers transferred, not copied), which publishes them on the bus.
 */
import { nowMs } from "@ballstream/shared";
import { FrameRenderer } from "./renderer.ts";
import { FrameSchedule } from "./schedule.ts";
import type { FromWorker, ToWorker } from "./worker-messages.ts";

declare const self: Worker;

let renderer: FrameRenderer | undefined;
let schedule: FrameSchedule | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

function tick(): void {
  if (!renderer || !schedule) return;
  const due = schedule.take(nowMs());
  if (due) {
    const r = renderer.render(due.captureTimeMs);
    post({ type: "frame", frame: r.frame, truth: r.truth, captureTimeMs: due.captureTimeMs, skipped: due.skipped }, [r.frame.buffer, r.truth.buffer]);
  }
  timer = setTimeout(tick, Math.max(0, schedule.nextDueMs - nowMs()));
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  switch (m.type) {
    case "start": {
      const startMs = nowMs();
      renderer = new FrameRenderer(m.sessionId, m.settings, startMs);
      schedule = new FrameSchedule(startMs, m.settings.fps);
      tick();
      break;
    }
    case "update": {
      const now = nowMs();
      if (m.speed !== undefined) renderer?.setSpeed(m.speed, now);
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
