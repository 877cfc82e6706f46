/**
 * The channel fan-out's send path, per viewer per frame, for docs/channels.md: `bun bench/manual/fanout-send.ts
 * [--viewers=100] [--seconds=10] [--fps=30] [--werift]` (add `--cpu-prof` before the script for a profile of media alone;
 * `--werift` sends through werift's generic sender as before the lean path: numbered packets, `stamp`, `write`). A nats-server,
 * the generator as its own process and media in this process (so its CPU is this process's, its encoder a child);
 * the light werift receivers of the fan-out benchmark (scripts/bench/light-receiver.ts) join one channel, first 1,
 * then `--viewers`. Per step: this process's CPU per second, the time spent in `ChannelViewer.deliver` (its
 * synchronous part: packets made, werift's send, SRTP, the socket send), each delivery's wait after its frame's first
 * one began (the fan-out's own delay), frames delivered and capture → last packet at the receivers (their own
 * event loop's delay included). The figure is the slope: (CPU at N − CPU at 1) / (N − 1) / frames per second, µs
 * of media per viewer per frame; at two frame rates it splits into a cost per frame and one per second (RTCP, STUN).
 * Run by hand (minutes at 100+ viewers): `bun run bench` runs only the scripts directly in bench/, not manual/.
 */
import { connectNatsBus, createLogger, createRegistry } from "@ballstream/runtime";
import { startNatsServer, summarize } from "@ballstream/testing";
import { channelSessionId } from "@ballstream/signaling";
import { startLightFleet } from "../../../../scripts/bench/light-fleet.ts";
import { ChannelViewer } from "../../src/channel-viewer.ts";
import { startMedia } from "../../src/mod.ts";
import { MediaPeer } from "../../src/peer.ts";
import { RtpSequencer } from "../../src/rtp-packetizer.ts";

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const VIEWERS = arg("viewers", 100);
const SECONDS = arg("seconds", 10);
const FPS = arg("fps", 30);

if (process.argv.includes("--werift")) {
  const sequencers = new WeakMap<MediaPeer, RtpSequencer>();
  MediaPeer.prototype.writeFrame = function (this: MediaPeer, payloads, timestamp, absCaptureTime) {
    let sequencer = sequencers.get(this);
    if (sequencer === undefined) sequencers.set(this, (sequencer = new RtpSequencer()));
    this.write(this.stamp(sequencer.packets(payloads, timestamp), 0, absCaptureTime as Buffer));
    return true;
  };
}

let deliverNs = 0;
let delivers = 0;
/** Per frame: when its first viewer's delivery started (ns); per delivery, how long after that (ms): its wait in the fan-out. */
const firstDelivery = new WeakMap<object, number>();
let waitsMs: number[] = [];
const deliver = ChannelViewer.prototype.deliver;
ChannelViewer.prototype.deliver = function (this: ChannelViewer, frame) {
  const t0 = Bun.nanoseconds();
  const first = firstDelivery.get(frame) ?? (firstDelivery.set(frame, t0), t0);
  waitsMs.push((t0 - first) / 1e6);
  deliver.call(this, frame);
  deliverNs += Bun.nanoseconds() - t0;
  delivers++;
};

const log = createLogger("fanout-send", { level: "warn" });
const nats = await startNatsServer();
const generator = Bun.spawn(["bun", `${import.meta.dir}/../../../generator/src/main.ts`], { env: { ...process.env, NATS_URL: nats.url, METRICS_PORT: "0", METRICS_HOST: "127.0.0.1", LOG_LEVEL: "warn" }, stdout: "ignore", stderr: "inherit" });
const bus = await connectNatsBus({ url: nats.url, name: "fanout-send-media", log });
const media = await startMedia({ bus, log, registry: createRegistry(), config: { iceInterfaceAddress: "127.0.0.1", iceAdvertiseAddresses: ["127.0.0.1"] } });
const fleet = startLightFleet(nats.url);
const source = channelSessionId(`fanout-send-${Math.random().toString(36).slice(2, 8)}`);

interface Step {
  viewers: number;
  cpuUsPerS: number;
  deliverUsPerCall: number;
  delivered: number;
  gaps: number;
  /** Capture → last packet of a frame at the light receivers, p50 / p95 ms. */
  latencyMs: { p50: number; p95: number };
  /** A delivery's wait after its frame's first one began (media alone), p50 / p95 / max ms. */
  waitMs: { p50: number; p95: number; max: number };
}

async function measure(viewers: number): Promise<Step> {
  await Bun.sleep(2000);
  await fleet.window();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  deliverNs = 0;
  delivers = 0;
  waitsMs = [];
  await Bun.sleep(SECONDS * 1000);
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  const calls = delivers;
  const ns = deliverNs;
  const counts = await fleet.report();
  const sent = counts.reduce((n, c) => n + c.framesSent, 0);
  const complete = counts.reduce((n, c) => n + c.framesComplete, 0);
  return { viewers, cpuUsPerS: (cpu.user + cpu.system) / seconds, deliverUsPerCall: calls === 0 ? 0 : ns / calls / 1000, delivered: sent === 0 ? 0 : complete / sent, gaps: counts.reduce((n, c) => n + c.sequenceGaps, 0), latencyMs: summarize(counts.flatMap((c) => c.latenciesMs)), waitMs: summarize(waitsMs) };
}

const print = (s: Step) =>
  console.log(`${String(s.viewers).padStart(4)} viewers: media CPU ${(s.cpuUsPerS / 1e4).toFixed(1)} % of a core; deliver ${s.deliverUsPerCall.toFixed(1)} µs per viewer per frame (sync); delivered ${(s.delivered * 100).toFixed(1)} %, ${s.gaps} sequence gaps; capture → last packet p50 / p95 ${s.latencyMs.p50.toFixed(1)} / ${s.latencyMs.p95.toFixed(1)} ms; wait in the fan-out p50 / p95 / max ${s.waitMs.p50.toFixed(2)} / ${s.waitMs.p95.toFixed(2)} / ${s.waitMs.max.toFixed(1)} ms`);

try {
  await fleet.startSource(source, FPS);
  await fleet.join(1, source);
  const one = await measure(1);
  print(one);
  const r = await fleet.join(VIEWERS - 1, source);
  if (r.failures.length > 0) console.log(`${r.failures.length} joins failed: ${r.failures[0]}`);
  const many = await measure(r.sessions);
  print(many);
  const perViewerPerFrame = (many.cpuUsPerS - one.cpuUsPerS) / (many.viewers - 1) / FPS;
  console.log(`${process.argv.includes("--werift") ? "werift's sender" : "lean path"} slope: ${perViewerPerFrame.toFixed(1)} µs of media CPU per viewer per frame (${((perViewerPerFrame * FPS) / 1e4).toFixed(3)} % of a core per viewer)`);
} finally {
  await fleet.stop();
  await media.stop();
  await bus.drain();
  generator.kill("SIGTERM");
  await Promise.race([generator.exited, Bun.sleep(5000)]);
  generator.kill("SIGKILL");
  await nats.stop();
}
process.exit(0);
