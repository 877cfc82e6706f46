/**
 * An encoder thread (x264-threads.ts starts it): the x264s of some of media's sessions, each by the id its instance
 * was given. Every message is answered in order; a failing x264 is closed and reported, and the thread goes on with
 * the others.
 */
import type { EncoderFormat } from "./encoder-settings.ts";
import type { FromEncoderThread, ToEncoderThread } from "./x264-threads.ts";
import { constantMacroblocks, macroblockCount } from "./unchanged-macroblocks.ts";
import { CappedX264, loadX264 } from "./x264.ts";

declare const self: Worker;

const lib = loadX264();
/** Each instance's x264, the picture it shares with media's event loop, and its map of unchanged macroblocks. */
const encoders = new Map<number, { readonly x264: CappedX264; readonly picture: Uint8Array; readonly format: EncoderFormat; readonly unchanged: Uint8Array }>();

function answer(message: FromEncoderThread, transfer: ArrayBuffer[] = []): void {
  self.postMessage(message, transfer);
}

function fail(id: number, err: unknown): void {
  encoders.get(id)?.x264.close();
  encoders.delete(id);
  answer({ op: "error", id, message: err instanceof Error ? err.message : String(err) });
}

self.onmessage = (event: MessageEvent<ToEncoderThread>) => {
  const m = event.data;
  switch (m.op) {
    case "open":
      try {
        if (lib === null) throw new Error("libx264 cannot be loaded on the encoder thread");
        const unchanged = new Uint8Array(macroblockCount(m.format.width, m.format.height));
        encoders.set(m.id, { x264: CappedX264.open(lib, m.format, m.x264), picture: new Uint8Array(m.picture), format: m.format, unchanged });
      } catch (err) {
        fail(m.id, err);
      }
      return;
    case "encode": {
      const encoder = encoders.get(m.id);
      if (encoder === undefined) return fail(m.id, new Error("x264 is not open"));
      try {
        const { width, height } = encoder.format;
        const unchanged = m.changed === null ? undefined : constantMacroblocks(width, height, m.changed, encoder.unchanged);
        const out = encoder.x264.encode(encoder.picture.subarray(0, m.length), m.idr, unchanged);
        if (out === null) throw new Error("x264 held a frame back");
        const data = out.data.buffer as ArrayBuffer;
        answer({ op: "unit", id: m.id, data, keyframe: out.keyframe }, [data]);
      } catch (err) {
        fail(m.id, err);
      }
      return;
    }
    case "bitrate":
      encoders.get(m.id)?.x264.setKbps(m.kbps);
      return;
    case "close":
      encoders.get(m.id)?.x264.close();
      encoders.delete(m.id);
      return;
  }
};
