/**
 * Sender behaviour figures for docs/media.md: `bun bench/sender.ts` prints, for the generator's ball (640×480 and
 * 1920×1080) and for incompressible noise (640×480), each at 30 fps for 6 s of frames:
 * - bytes per second and frame sizes (IDR, P-frame p50 / max) with the shipped arguments (CRF by fps + a VBV of one
 *   frame at the target), without the VBV (before), and with periodic intra refresh instead of IDRs;
 * - for noise, the bitrate honoured against the target at 500 / 1000 / 2000 kbit/s;
 * - the restart cost of a bitrate change (SessionEncoder, frames paced at 30 fps): time from the frame that
 *   restarts x264 to its IDR, against an ordinary frame's encode time, and frames dropped meanwhile;
 * - the burst of the largest frame on the wire, without pacing (all packets in one loop) and with the Pacer.
 */
import { DEFAULT_SETTINGS, nowMs } from "@ballstream/protocol";
import { FrameRenderer } from "@ballstream/generator/renderer";
import { type Frame, createLogger } from "@ballstream/runtime";
import { summarize } from "@ballstream/testing";
import { type AccessUnit, AccessUnitParser } from "../src/annexb.ts";
import { DEFAULT_ENCODER_OPTIONS, type EncodedFrame, SessionEncoder } from "../src/encoder.ts";
import { FfmpegBackend, encoderArgs } from "../src/ffmpeg-encoder.ts";
import { resolveFfmpeg } from "../src/ffmpeg-path.ts";
import { PACING_FACTOR, Pacer } from "../src/pacer.ts";
import { h264Payloads } from "../src/rtp-packetizer.ts";

const ffmpeg = resolveFfmpeg().path;
const FPS = 30;
const SECONDS = 6;

/** I420 pictures of the ball, or of fresh random noise every frame. */
function pictures(width: number, height: number, noise: boolean): Uint8Array[] {
  const renderer = new FrameRenderer("senderBench00000000000", { ...DEFAULT_SETTINGS, width, height, fps: FPS }, 0);
  return Array.from({ length: FPS * SECONDS }, (_, k) => {
    if (noise) return crypto.getRandomValues(new Uint8Array(width * height * 1.5));
    const { frame } = renderer.render((k * 1000) / FPS);
    return frame.subarray(frame.length - width * height * 1.5);
  });
}

async function encodeAll(width: number, height: number, frames: Uint8Array[], bitrateKbps: number | null, intraRefresh: boolean): Promise<AccessUnit[]> {
  const args = encoderArgs({ width, height, fps: FPS }, { keyframeIntervalS: 2, bitrateKbps: bitrateKbps ?? 1, intraRefresh });
  if (bitrateKbps === null) args.splice(args.indexOf("-maxrate"), 4);
  const p = Bun.spawn([ffmpeg, ...args], { stdin: "pipe", stdout: "pipe" });
  void (async () => {
    for (const f of frames) {
      p.stdin.write(f);
      await p.stdin.flush();
    }
    p.stdin.end();
  })();
  return new AccessUnitParser().push(Buffer.concat(await Array.fromAsync(p.stdout)));
}

const bytesOf = (u: AccessUnit) => u.nals.reduce((s, n) => s + 4 + n.length, 0);

function sizes(units: AccessUnit[]): string {
  const key = units.filter((u) => u.keyframe).map(bytesOf);
  const p = summarize(units.filter((u) => !u.keyframe).map(bytesOf));
  const all = units.map(bytesOf);
  const kbps = (all.reduce((a, b) => a + b, 0) * 8) / SECONDS / 1000;
  return `${kbps.toFixed(0).padStart(5)} kbit/s; IDR ${key.join(", ")} B; P p50 ${p.p50.toFixed(0)} / max ${p.max} B; largest ${Math.max(...all)} B`;
}

/** Restart cost: frames every 1/FPS s into a SessionEncoder; halfway the target drops 40 % (a restart now). */
async function restartCost(width: number, height: number, frames: Uint8Array[]) {
  const log = createLogger("bench", { level: "silent" });
  const out: Array<EncodedFrame & { atMs: number }> = [];
  const e = new SessionEncoder({ ...DEFAULT_ENCODER_OPTIONS, backend: new FfmpegBackend(ffmpeg) }, log, { onFrame: (f) => out.push({ ...f, atMs: nowMs() }), onRestart: () => undefined, onFatal: () => undefined });
  let restartedAt = 0;
  let droppedBefore = 0;
  for (let k = 0; k < frames.length; k++) {
    if (k === frames.length / 2) {
      e.setTargetBitrate(DEFAULT_ENCODER_OPTIONS.bitrateKbps * 0.6);
      droppedBefore = e.stats.framesDropped;
      restartedAt = k;
    }
    const frame: Frame = { sessionId: "s", frameId: k, captureTimeMs: nowMs(), x: 0, y: 0, vx: 0, vy: 0, width, height, radius: 20, fps: FPS, pixelFormat: "I420", pixels: frames[k]! };
    e.encode(frame);
    await Bun.sleep(1000 / FPS);
  }
  await e.stop();
  const idr = out.find((f) => f.frameId >= restartedAt && f.keyframe)!;
  const normal = summarize(out.filter((f) => !f.keyframe).map((f) => f.encodeMs));
  const dropped = e.stats.framesDropped - droppedBefore;
  return `restart → IDR ${idr.encodeMs.toFixed(1)} ms (frame ${idr.frameId - restartedAt} after the change), ordinary frame p50 ${normal.p50.toFixed(1)} ms; dropped around it ${dropped}; IDR ${bytesOf(idr)} B`;
}

/** How long the largest frame's packets take to leave, unpaced and paced at the default target. */
async function burst(units: AccessUnit[]): Promise<string> {
  const largest = units.reduce((a, b) => (bytesOf(b) > bytesOf(a) ? b : a));
  const t0 = performance.now();
  const packets = h264Payloads(largest.nals);
  const unpacedMs = performance.now() - t0;
  const sentAt: number[] = [];
  const pacer = new Pacer<AccessUnit, Buffer>({
    packetize: (u) => h264Payloads(u.nals),
    bytes: (p) => p.length,
    send: () => sentAt.push(performance.now()),
    bytesPerMs: () => (PACING_FACTOR * DEFAULT_ENCODER_OPTIONS.bitrateKbps) / 8,
    now: () => performance.now(),
  });
  pacer.push(largest);
  while (sentAt.length < packets.length) await Bun.sleep(1);
  return `${packets.length} packets of ${bytesOf(largest)} B: unpaced in ${unpacedMs.toFixed(2)} ms (one loop), paced over ${(sentAt.at(-1)! - sentAt[0]!).toFixed(1)} ms (frame interval ${(1000 / FPS).toFixed(1)} ms)`;
}

if (import.meta.main) {
  console.log(`ffmpeg ${ffmpeg}, ${FPS} fps, ${SECONDS} s of frames, target ${DEFAULT_ENCODER_OPTIONS.bitrateKbps} kbit/s`);
  for (const [w, h, noise] of [[640, 480, false], [1920, 1080, false], [640, 480, true]] as const) {
    const frames = pictures(w, h, noise);
    const name = `${w}×${h} ${noise ? "noise" : "ball"}`;
    const shipped = await encodeAll(w, h, frames, DEFAULT_ENCODER_OPTIONS.bitrateKbps, false);
    console.log(`${name} shipped (VBV 1 frame): ${sizes(shipped)}`);
    console.log(`${name} no VBV (before):       ${sizes(await encodeAll(w, h, frames, null, false))}`);
    console.log(`${name} + intra refresh:       ${sizes(await encodeAll(w, h, frames, DEFAULT_ENCODER_OPTIONS.bitrateKbps, true))}`);
    if (noise) for (const kbps of [500, 1000]) console.log(`${name} target ${kbps}:             ${sizes(await encodeAll(w, h, frames, kbps, false))}`);
    console.log(`${name} burst: ${await burst(shipped)}`);
    console.log(`${name} ${await restartCost(w, h, frames)}`);
  }
}
