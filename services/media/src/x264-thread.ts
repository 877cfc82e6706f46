/**
 * An encoder thread (x264-threads.ts starts it): the x264s of some of media's sessions, each by the id its instance
 * was given. Every message is answered in order; a failing x264 is closed and reported, and the thread goes on with
 * the others.
 */
import type { FromEncoderThread, ToEncoderThread } from "./x264-threads.ts";
import { CappedX264, loadX264 } from "./x264.ts";

declare const self: Worker;

const lib = loadX264();
const encoders = new Map<number, CappedX264>();

function answer(message: FromEncoderThread, transfer: ArrayBuffer[]): void {
  self.postMessage(message, transfer);
}

function fail(id: number, err: unknown, pixels?: ArrayBuffer): void {
  encoders.get(id)?.close();
  encoders.delete(id);
  const message = err instanceof Error ? err.message : String(err);
  answer(pixels === undefined ? { op: "error", id, message } : { op: "error", id, message, pixels }, pixels === undefined ? [] : [pixels]);
}

self.onmessage = (event: MessageEvent<ToEncoderThread>) => {
  const m = event.data;
  switch (m.op) {
    case "open":
      try {
        if (lib === null) throw new Error("libx264 cannot be loaded on the encoder thread");
        encoders.set(m.id, CappedX264.open(lib, m.format, m.x264));
      } catch (err) {
        fail(m.id, err);
      }
      return;
    case "encode": {
      const x264 = encoders.get(m.id);
      if (x264 === undefined) return fail(m.id, new Error("x264 is not open"), m.pixels);
      try {
        const out = x264.encode(new Uint8Array(m.pixels, 0, m.length), m.idr);
        if (out === null) throw new Error("x264 held a frame back");
        const data = out.data.buffer as ArrayBuffer;
        answer({ op: "unit", id: m.id, data, keyframe: out.keyframe, pixels: m.pixels }, [data, m.pixels]);
      } catch (err) {
        fail(m.id, err, m.pixels);
      }
      return;
    }
    case "bitrate":
      encoders.get(m.id)?.setKbps(m.kbps);
      return;
    case "close":
      encoders.get(m.id)?.close();
      encoders.delete(m.id);
      return;
  }
};
