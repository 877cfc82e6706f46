/** Frames and waits shared by the encoder tests. */
import { type Frame, i420ByteLength } from "@ballstream/runtime";
import { nowMs } from "@ballstream/protocol";

/** Width and height of the test frames (small: the tests are about behaviour, not pictures). */
export const W = 160;
export const H = 120;
let frameId = 0;

/** The next test frame: a moving bar of `shade` on a flat picture, at `fps`. */
export function frame(shade = frameId * 9, fps = 30): Frame {
  const pixels = new Uint8Array(i420ByteLength(W, H)).fill(16);
  pixels.fill(shade & 0xff, (frameId % 40) * W, (frameId % 40) * W + 20 * W);
  return { sessionId: "s", frameId: frameId++, captureTimeMs: nowMs(), x: 0, y: 0, vx: 0, vy: 0, width: W, height: H, radius: 5, fps, pixelFormat: "I420", pixels };
}

/** Waits until `cond` holds, polling every 5 ms; throws after `ms`. */
export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); ) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

/** Paints `pixels`' luma plane (the first `lumaBytes`) with the generator's `noise` scene: fresh ±8 levels around 120. */
export function paintNoise(pixels: Uint8Array, lumaBytes: number): void {
  const random = new Uint8Array(lumaBytes);
  crypto.getRandomValues(random);
  for (let i = 0; i < lumaBytes; i++) pixels[i] = 112 + (random[i]! & 15);
}
