import { DEFAULT_SETTINGS } from "@ballstream/protocol";
import { i420ByteLength } from "@ballstream/runtime";
import { CappedX264, loadX264 } from "../src/x264.ts";
const lib = loadX264()!;
const { width: W, height: H } = DEFAULT_SETTINGS;
const fmt = { width: W, height: H, fps: 30 };
const x = CappedX264.open(lib, fmt, { keyframeIntervalS: 2, bitrateKbps: 2000, intraRefresh: false });
const pixels = new Uint8Array(i420ByteLength(W, H));
const copy = new Uint8Array(pixels.length);
for (const gap of [0, 33]) {
  const t: number[] = [], c: number[] = [];
  for (let i = 0; i < 150; i++) {
    pixels.fill(16, 0, W * H); pixels.fill(128, W * H);
    const xx = (i * 7) % (W - 48);
    for (let row = 200; row < 248; row++) pixels.fill(200, row * W + xx, row * W + xx + 48);
    const t0 = performance.now();
    copy.set(pixels);
    const t1 = performance.now();
    x.encode(copy, false);
    t.push(performance.now() - t1); c.push(t1 - t0);
    if (gap) await Bun.sleep(gap);
  }
  t.sort((a, b) => a - b); c.sort((a, b) => a - b);
  console.log(`gap ${gap}: encode p50 ${t[75]!.toFixed(3)} p95 ${t[142]!.toFixed(3)}; copy p50 ${c[75]!.toFixed(3)}`);
}
