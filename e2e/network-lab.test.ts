/**
 * The built-in network lab (issue 15, docs/network-lab.md) end to end, in real Chromium against `bun start`:
 * 5 % random loss each way on media's ICE sockets (the `noise` scene: many packets a frame) — NACKs come in and are answered (the page loses far fewer RTP
 * packets than the link dropped) and the video keeps decoding; 5 % random loss each way on signaling's QUIC socket
 * — the WebTransport session still comes up and coordinates and error reports keep flowing. Behaviour, not timing.
 */
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { readHook, waitForHook } from "@ballstream/web/hook-reader";
import { systemPerTest } from "./harness/fixture.ts";
import { metricSum } from "./harness/viewer-scenario.ts";

/** How long the impaired session is watched once it streams. */
const WATCH_MS = 8000;

const lab = systemPerTest();

/** Starts the one-process system with `env`, opens the page and waits until it streams with reports coming back. */
async function streamingPage(env: Record<string, string>, query = ""): Promise<Page> {
  const { system, browser } = await lab.start(env);
  const page = await browser.newPage();
  await page.goto(`${system.url}${query}`);
  const hook = await waitForHook(page, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 0 && h.inbound.framesDecoded > 0) || h.status === "error");
  if (hook.status === "error") throw new Error(`page failed: ${hook.error}\n${system.server.output().slice(-3000)}`);
  return page;
}

/** A metric summed over the endpoints; `name{labels}` picks one series. */
const metric = (name: string) => metricSum(lab.system.metricsUrls, name);

describe("network lab", () => {
  test("5 % loss each way on media's ICE sockets: NACKs are answered and the video keeps decoding", async () => {
    // The loss starts once the session streams (its own link, the same emulator on the same sockets): a session
    // started behind 5 % loss each way once never got its first RTP packet (docs/network-lab.md, "Not here yet").
    const page = await streamingPage({}, "?scene=noise"); // many RTP packets a frame
    await page.evaluate(() => (globalThis as unknown as { ballstream: { control(c: unknown): Promise<void> } }).ballstream.control({ network: { down: "loss=5%", up: "loss=5%" } }));
    await waitForHook(page, "the loss in force", (h) => h.settings?.network.down === "loss=5%" || h.status === "error");
    const before = (await readHook(page))!;
    await Bun.sleep(WATCH_MS);
    const after = (await readHook(page))!;
    const linkLost = await metric('ballstream_media_net_packets_total{direction="egress",outcome="lost"}');
    const linkDelivered = await metric('ballstream_media_net_packets_total{direction="egress",outcome="delivered"}');
    const nacks = await metric("ballstream_media_nacks_total");
    const conditions = await metric('ballstream_media_net_session_links{direction="egress"}');
    const decoded = after.inbound.framesDecoded - before.inbound.framesDecoded;
    const expected = ((after.settings?.fps ?? 30) * WATCH_MS) / 1000;
    console.log(
      `media 5 % loss: link dropped ${linkLost} of ${linkLost + linkDelivered} packets sent; ${nacks} NACKs received; page lost ${after.inbound.packetsLost} RTP packets; ` +
        `${decoded} frames decoded in ${WATCH_MS / 1000} s (expected ${expected.toFixed(0)}); ${after.reportsReceived - before.reportsReceived} reports`,
    );
    expect(conditions).toBe(1);
    expect(linkLost).toBeGreaterThan(0);
    expect(nacks).toBeGreaterThan(0);
    // Answered: most of what the link dropped was retransmitted and arrived, so the page counts far fewer as lost.
    expect(after.inbound.packetsLost - before.inbound.packetsLost).toBeLessThan(linkLost / 2);
    expect(after.status).toBe("streaming");
    expect(decoded).toBeGreaterThan(expected / 2);
    expect(after.reportsReceived).toBeGreaterThan(before.reportsReceived);
  }, 90_000);

  test("a 1 s blackout of media's ICE egress, 3 s into the session: the link drops everything for that second, then frames resume", async () => {
    const page = await streamingPage({ MEDIA_NET_EGRESS: "blackout=1s,blackout-at=3s" });
    let blackedOut = 0;
    for (let i = 0; i < 100 && blackedOut === 0; i++) {
      await Bun.sleep(100);
      blackedOut = await metric('ballstream_media_net_packets_total{direction="egress",outcome="blackout"}');
    }
    await Bun.sleep(1500); // past the end of the blackout
    const before = (await readHook(page))!;
    await waitForHook(page, "frames after the blackout", (h) => h.inbound.framesDecoded > before.inbound.framesDecoded + 30 || h.status === "error");
    const after = (await readHook(page))!;
    const plis = await metric("ballstream_media_plis_total");
    const dropped = await metric('ballstream_media_net_packets_total{direction="egress",outcome="blackout"}');
    console.log(`media blackout 1 s: ${dropped} packets dropped by it; ${plis} PLIs; ${after.inbound.framesDecoded - before.inbound.framesDecoded} frames decoded after it`);
    expect(blackedOut).toBeGreaterThan(0);
    expect(after.status).toBe("streaming");
    expect(after.inbound.framesDecoded).toBeGreaterThan(before.inbound.framesDecoded + 30);
  }, 90_000);

  test("5 % loss each way on signaling's QUIC socket: the WebTransport session works, coordinates and reports flow", async () => {
    const page = await streamingPage({ SIGNALING_NET_EGRESS: "loss=5%", SIGNALING_NET_INGRESS: "loss=5%" });
    const before = (await readHook(page))!;
    const coordinatesBefore = await metric("ballstream_signaling_coordinates_received_total");
    await Bun.sleep(WATCH_MS);
    const after = (await readHook(page))!;
    const coordinates = (await metric("ballstream_signaling_coordinates_received_total")) - coordinatesBefore;
    const lostOut = await metric('ballstream_signaling_net_packets_total{direction="egress",outcome="lost"}');
    const lostIn = await metric('ballstream_signaling_net_packets_total{direction="ingress",outcome="lost"}');
    const conditions = await metric('ballstream_signaling_net_conditions_info{direction="ingress",conditions="loss=5%"}');
    const reports = after.reportsReceived - before.reportsReceived;
    console.log(`signaling 5 % loss: link dropped ${lostOut} out / ${lostIn} in; ${coordinates} coordinates received, ${reports} reports at the page in ${WATCH_MS / 1000} s`);
    expect(conditions).toBe(1);
    expect(lostOut).toBeGreaterThan(0);
    expect(lostIn).toBeGreaterThan(0);
    expect(after.status).toBe("streaming");
    expect(coordinates).toBeGreaterThan(0);
    expect(reports).toBeGreaterThan(0);
    expect(after.lastReport?.frameMatched).toBe(true);
  }, 90_000);

  test("under a bandwidth cap (noise scene, 900 kbit/s) the sender's bitrate falls below the cap and the picture keeps coming", async () => {
    const CAP_KBIT = 900;
    const page = await streamingPage({ MEDIA_NET_EGRESS: `rate=${CAP_KBIT}kbit` }, "?scene=noise"); // unconstrained ~1.8 Mbit/s
    await Bun.sleep(6000); // REMB brings the encoder's target down
    const outcomes = ["delivered", "lost", "queue_full", "blackout"];
    const egress = async (what: string, which = outcomes) => (await Promise.all(which.map((o) => metric(`ballstream_media_net_${what}_total{direction="egress",outcome="${o}"}`)))).reduce((a, b) => a + b, 0);
    const [bytes0, tailDropped0, before, t0] = [await egress("bytes"), await egress("packets", ["queue_full"]), (await readHook(page))!, performance.now()];
    await Bun.sleep(WATCH_MS);
    const seconds = (performance.now() - t0) / 1000;
    const sentKbit = ((await egress("bytes")) - bytes0) * 8 / 1000 / seconds;
    const tailDropped = (await egress("packets", ["queue_full"])) - tailDropped0;
    const after = (await readHook(page))!;
    const decoded = after.inbound.framesDecoded - before.inbound.framesDecoded;
    console.log(`cap ${CAP_KBIT} kbit/s: the sender offered ${sentKbit.toFixed(0)} kbit/s to it over ${seconds.toFixed(1)} s, ${tailDropped} packets tail-dropped; ${decoded} frames decoded`);
    expect(sentKbit).toBeLessThan(CAP_KBIT);
    expect(after.status).toBe("streaming");
    expect(decoded).toBeGreaterThan((30 * WATCH_MS) / 1000 / 2);
  }, 90_000);

  test("after a 1 s blackout of the noise scene a keyframe goes out (none is periodic: KEYFRAME_INTERVAL_S=60) and frames resume", async () => {
    const page = await streamingPage({ MEDIA_NET_EGRESS: "blackout=1s,blackout-at=4s", KEYFRAME_INTERVAL_S: "60" }, "?scene=noise");
    let blackedOut = 0;
    for (let i = 0; i < 100 && blackedOut === 0; i++) {
      await Bun.sleep(50);
      blackedOut = await metric('ballstream_media_net_packets_total{direction="egress",outcome="blackout"}');
    }
    const keyframesBefore = await metric("ballstream_media_keyframes_total");
    await Bun.sleep(1000); // the blackout ends
    const before = (await readHook(page))!;
    const after = await waitForHook(page, "frames after the blackout", (h) => h.inbound.framesDecoded > before.inbound.framesDecoded + 30 || h.status === "error", 20_000);
    const keyframes = (await metric("ballstream_media_keyframes_total")) - keyframesBefore;
    const plis = await metric("ballstream_media_plis_total");
    console.log(`noise blackout 1 s: ${blackedOut}+ packets dropped; ${plis} PLIs; ${keyframes} keyframes after it; ${after.inbound.framesDecoded - before.inbound.framesDecoded} frames decoded after it`);
    expect(blackedOut).toBeGreaterThan(0);
    expect(keyframes).toBeGreaterThanOrEqual(1);
    expect(after.status).toBe("streaming");
  }, 90_000);
});
