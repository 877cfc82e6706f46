/** An encoder thread that encodes its first frame, then dies on the next message (x264-threads.test.ts). */
import type { ToEncoderThread } from "../src/x264-threads.ts";

declare const self: Worker;
let frames = 0;
self.onmessage = (event: MessageEvent<ToEncoderThread>) => {
  const m = event.data;
  if (m.op !== "encode") return;
  if (frames++ > 0) throw new Error("encoder thread blew up");
  const idr = Uint8Array.of(0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00);
  self.postMessage({ op: "unit", id: m.id, data: idr.buffer, keyframe: true }, [idr.buffer]);
};
