/**
 * The kernel cross-check of the network lab (issue 15, docs/network-lab.md "Kernel cross-check"): Chromium runs in
 * a network namespace of its own behind a veth pair, so the video crosses a real kernel path to the system on the
 * veth's host address. The same session (`?scene=noise`, the encoder at a fixed target at the cap) runs twice at
 * the same rate, queue and loss: once behind a kernel bottleneck (`tc tbf` on the host side's egress) with
 * nftables `numgen random` drops as the media packets enter the namespace, the built-in emulator off; once behind
 * the built-in emulator (`MEDIA_NET_EGRESS`) on the same, clean, kernel path. Both must keep decoding under the cap
 * and answer NACKs, and their delivered frames and received bitrates must agree. Then the same pair with the
 * congestion response on (REMB and the loss in the receiver reports): both adapt under the cap and agree too.
 * Behaviour, not timing.
 * Needs root (namespaces, tc, nft): skipped otherwise, with the reason printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type Page, chromium } from "playwright-core";
import { CHROMIUM_ARGS, type RunningSystem, freePort, freeUdpPort, startOneProcess } from "@ballstream/testing";
import { readHook, waitForHook } from "@ballstream/web/hook-reader";
import { removeStaleNamespaces, sh, writeChromiumWrapper } from "./harness/netns.ts";
import { keepPeerConnections } from "./harness/peer-connections.ts";
import { metricSum } from "./harness/viewer-scenario.ts";

/** The bottleneck's rate, kbit/s: about half the noise scene's unconstrained ~1.3 Mbit/s (docs/benchmarks.md). */
const RATE_KBIT = 700;
/** Random loss after the bottleneck, %. */
const LOSS_PCT = 2;
/** The emulator's default queue, and the tbf queue's `latency`. */
const QUEUE_MS = 50;
/** The fixed encoder target of the comparison (CONGESTION_RESPONSE=0): the cap itself (x264 delivers ~0.86 of it), so the link, not the controller, decides. */
const FIXED_KBPS = 700;
/** Watched from this long after the session streams (the congestion response settles)… */
const SETTLE_MS = 4000;
/** …for this long. */
const WATCH_MS = 12_000;
/** Two runs' delivered-frame fractions and received bitrates agree within this factor (measured: docs/network-lab.md). */
const AGREE_WITHIN = 0.2;

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log("kernel-link: skipped, needs root (ip netns, tc qdisc tbf, nft); CI runs as root");

/** The namespace, the veth pair and its /30 (10.77.<subnet>.1 on the host, .2 in the namespace). */
interface Lab {
  readonly ns: string;
  readonly hostIf: string;
  readonly hostIp: string;
  readonly nsIp: string;
  readonly table: string;
  readonly dir: string;
  readonly wrapper: string;
}

/** The lab's names and addresses (the pid keeps them apart from other runs); nothing is made yet. */
function labFor(pid: number): Lab {
  const ns = `bsk${pid}`;
  const used = sh(["ip", "-4", "-o", "addr"]);
  let subnet = -1;
  for (let i = 0; i < 250 && subnet < 0; i++) {
    const candidate = ((pid + i) % 250) + 1;
    if (!used.includes(` 10.77.${candidate}.`)) subnet = candidate;
  }
  if (subnet < 0) throw new Error("no free 10.77.x.0/30 on this host");
  const dir = mkdtempSync(join(tmpdir(), "ballstream-kernel-"));
  return { ns, hostIf: `${ns}h`, hostIp: `10.77.${subnet}.1`, nsIp: `10.77.${subnet}.2`, table: ns, dir, wrapper: join(dir, "chromium-in-ns.sh") };
}

/** Makes the namespace, the veth pair and the browser's wrapper. */
function buildLab(lab: Lab): void {
  writeChromiumWrapper(lab.wrapper, lab.ns);
  const nsIf = `${lab.ns}n`;
  sh(["ip", "netns", "add", lab.ns]);
  sh(["ip", "link", "add", lab.hostIf, "type", "veth", "peer", "name", nsIf, "netns", lab.ns]);
  sh(["ip", "addr", "add", `${lab.hostIp}/30`, "dev", lab.hostIf]);
  sh(["ip", "link", "set", lab.hostIf, "up"]);
  sh(["ip", "-n", lab.ns, "addr", "add", `${lab.nsIp}/30`, "dev", nsIf]);
  sh(["ip", "-n", lab.ns, "link", "set", nsIf, "up"]);
  sh(["ip", "-n", lab.ns, "link", "set", "lo", "up"]);
}

/** Removes everything {@link buildLab} and the runs made (each part may be absent). */
function removeLab(lab: Lab): void {
  clearKernelLink(lab);
  sh(["ip", "link", "del", lab.hostIf], true); // gone with the namespace too; here in case the namespace was not made
  sh(["ip", "netns", "del", lab.ns], true);
  rmSync(lab.dir, { recursive: true, force: true });
}

/** Removes the kernel impairment (each part may be absent). */
function clearKernelLink(lab: Lab): void {
  sh(["tc", "qdisc", "del", "dev", lab.hostIf, "root"], true);
  sh(["ip", "netns", "exec", lab.ns, "nft", "delete", "table", "inet", lab.table], true);
}

/**
 * The kernel bottleneck on the downlink: tbf on the host side's egress (rate, one packet of burst, 50 ms queue),
 * then random drops of UDP from the host (all but signaling's QUIC port: media's ICE sockets) as it enters the
 * namespace, after the bottleneck as in the emulator (a lost packet has used its transmission time).
 */
function setKernelLink(lab: Lab, wtPort: number): void {
  // `stab overhead -42`: tbf counts what the emulator counts, the UDP payload, not its 42 bytes of Ethernet, IPv4 and
  // UDP headers. With the headers counted the same `rate` carried ~5 % less media: 193–341 tail drops in 12 s at the
  // cap where the emulator had 11–20 (docs/network-lab.md). tbf's drops also count signaling's and the page's packets.
  sh(["tc", "qdisc", "add", "dev", lab.hostIf, "root", "stab", "overhead", "-42", "tbf", "rate", `${RATE_KBIT}kbit`, "burst", "1600", "latency", `${QUEUE_MS}ms`]);
  const rules = join(lab.dir, "loss.nft");
  const media = `ip saddr ${lab.hostIp} udp sport != ${wtPort}`;
  writeFileSync(
    rules,
    `table inet ${lab.table} {\n  chain input {\n    type filter hook input priority 0; policy accept;\n` +
      `    ${media} counter\n    ${media} numgen random mod 100 < ${LOSS_PCT} counter drop\n  }\n}\n`,
  );
  sh(["ip", "netns", "exec", lab.ns, "nft", "-f", rules]);
}

/** The kernel link's counters: media packets that reached the namespace, those nft dropped, those tbf tail-dropped. */
function kernelCounters(lab: Lab): { sent: number; lost: number; queueFull: number } {
  const nft = JSON.parse(sh(["ip", "netns", "exec", lab.ns, "nft", "-j", "list", "table", "inet", lab.table])) as { nftables: Array<{ rule?: { expr: Array<{ counter?: { packets: number } }> } }> };
  const counts = nft.nftables.flatMap((e) => (e.rule ? e.rule.expr.flatMap((x) => (x.counter ? [x.counter.packets] : [])) : []));
  const dropped = /dropped (\d+)/.exec(sh(["tc", "-s", "qdisc", "show", "dev", lab.hostIf]))?.[1];
  return { sent: counts[0] ?? 0, lost: counts[1] ?? 0, queueFull: Number(dropped ?? 0) };
}

/** Chromium in the namespace; the page's origin is treated as secure (WebTransport and WebCodecs need it). */
function launchInNamespace(lab: Lab, origin: string): Promise<Browser> {
  return chromium.launch({ executablePath: lab.wrapper, args: [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=${origin}`], timeout: 30_000 });
}

/** One getStats reading of the video: receiver totals and the sender's count from its RTCP sender reports. */
interface Totals {
  readonly atMs: number;
  readonly framesDecoded: number;
  readonly bytesReceived: number;
  readonly packetsLost: number;
  readonly nackCount: number;
  readonly freezeCount: number;
  readonly bytesSent: number;
}

function readTotals(page: Page): Promise<Totals> {
  return page.evaluate(async () => {
    const pc = (globalThis as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1);
    if (!pc) throw new Error("no RTCPeerConnection on the page");
    const stats = [...(await pc.getStats()).values()] as Array<Record<string, unknown>>;
    const inbound = stats.find((s) => s.type === "inbound-rtp" && s.kind === "video") ?? {};
    const sent = stats.find((s) => s.type === "remote-outbound-rtp" && s.kind === "video") ?? {};
    const n = (o: Record<string, unknown>, k: string) => (typeof o[k] === "number" ? (o[k] as number) : Number.NaN);
    return {
      atMs: performance.now(),
      framesDecoded: n(inbound, "framesDecoded"),
      bytesReceived: n(inbound, "bytesReceived"),
      packetsLost: n(inbound, "packetsLost"),
      nackCount: n(inbound, "nackCount"),
      freezeCount: n(inbound, "freezeCount"),
      bytesSent: n(sent, "bytesSent"),
    };
  });
}

/** What one run showed over its window. */
interface RunFigures {
  readonly name: string;
  readonly seconds: number;
  /** Frames the page decoded of those media sent in the window (the link's doing, whatever the machine's load). */
  readonly deliveredFraction: number;
  /** Frames media sent of fps × window (below 1: the generator or encoder fell behind, a loaded machine). */
  readonly sentFraction: number;
  readonly receivedKbps: number;
  readonly senderKbps: number;
  readonly linkSent: number;
  readonly linkLost: number;
  readonly queueFull: number;
  readonly nacksIn: number;
  readonly pageLost: number;
  readonly freezes: number;
  readonly status: string;
  /** The page's error when the session ended in the window. */
  readonly error: string | null;
}

const fmt = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : "–");

describe("kernel cross-check", () => {
  let lab: Lab | undefined;
  let system: RunningSystem | undefined;
  let browser: Browser | undefined;

  beforeAll(() => {
    if (!isRoot) return;
    removeStaleNamespaces("bsk"); // earlier runs of this test killed mid-run
    lab = labFor(process.pid);
    buildLab(lab);
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await system?.cleanup().catch(() => undefined);
    if (lab) removeLab(lab);
  });

  /** Starts the system on the veth's host address, opens the page in the namespace, measures one window. */
  async function run(name: string, kernel: boolean, extraEnv: Record<string, string>): Promise<RunFigures> {
    const l = lab!;
    const httpPort = await freePort();
    const wtPort = await freeUdpPort();
    const origin = `http://${l.hostIp}:${httpPort}`;
    try {
      // Inside the try: a half-set link (tbf added, nft missing) is cleared for the next test too.
      if (kernel) setKernelLink(l, wtPort);
      [system, browser] = await Promise.all([
        startOneProcess({
          HTTP_HOST: l.hostIp,
          HTTP_PORT: String(httpPort),
          WT_PORT: String(wtPort),
          METRICS_HOST: "127.0.0.1",
          ALLOWED_ORIGINS: origin,
          ICE_INTERFACE_ADDRESS: l.hostIp,
          ...extraEnv,
        }),
        launchInNamespace(l, origin),
      ]);
      const page = await browser.newPage();
      await page.addInitScript(keepPeerConnections);
      await page.goto(`${origin}/?scene=noise`);
      const streaming = await waitForHook(page, "streaming", (h) => (h.status === "streaming" && h.reportsReceived > 0 && h.inbound.framesDecoded > 0) || h.status === "error", 45_000);
      if (streaming.status === "error") throw new Error(`${name}: page failed: ${streaming.error}\n${system.server.output().slice(-3000)}`);
      await Bun.sleep(SETTLE_MS);
      const metric = (m: string) => metricSum(system!.metricsUrls, m);
      const link = async () =>
        kernel
          ? kernelCounters(l)
          : {
              sent: (await metric('ballstream_media_net_packets_total{direction="egress",outcome="delivered"}')) + (await metric('ballstream_media_net_packets_total{direction="egress",outcome="lost"}')),
              lost: await metric('ballstream_media_net_packets_total{direction="egress",outcome="lost"}'),
              queueFull: await metric('ballstream_media_net_packets_total{direction="egress",outcome="queue_full"}'),
            };
      const counters = async () => [await readTotals(page), await link(), await metric("ballstream_media_nacks_total"), await metric("ballstream_media_frames_sent_total")] as const;
      const [b, linkB, nacksB, sentB] = await counters();
      await Bun.sleep(WATCH_MS);
      const [a, linkA, nacksA, sentA] = await counters();
      const hook = (await readHook(page))!;
      const seconds = (a.atMs - b.atMs) / 1000;
      const fps = hook.settings?.fps ?? 30;
      return {
        name,
        seconds,
        deliveredFraction: (a.framesDecoded - b.framesDecoded) / (sentA - sentB),
        sentFraction: (sentA - sentB) / (fps * seconds),
        receivedKbps: (8 * (a.bytesReceived - b.bytesReceived)) / (1000 * seconds),
        senderKbps: (8 * (a.bytesSent - b.bytesSent)) / (1000 * seconds),
        linkSent: linkA.sent - linkB.sent,
        linkLost: linkA.lost - linkB.lost,
        queueFull: linkA.queueFull - linkB.queueFull,
        nacksIn: nacksA - nacksB,
        pageLost: a.packetsLost - b.packetsLost,
        freezes: a.freezeCount - b.freezeCount,
        status: hook.status,
        error: hook.error,
      };
    } finally {
      await browser?.close().catch(() => undefined);
      browser = undefined;
      await system?.cleanup();
      system = undefined;
      if (kernel) clearKernelLink(l);
    }
  }

  const emulated = `rate=${RATE_KBIT}kbit,queue=${QUEUE_MS}ms,loss=${LOSS_PCT}%`;
  const conditions = `noise scene, ${RATE_KBIT} kbit/s, ${QUEUE_MS} ms queue, ${LOSS_PCT} % loss`;

  /** Prints both runs as a table (it goes into docs/network-lab.md). */
  function report(title: string, rows: readonly RunFigures[]): void {
    console.log(
      [
        `kernel cross-check, ${title}: ${conditions}; window ${WATCH_MS / 1000} s from ${SETTLE_MS / 1000} s after streaming`,
        "| run | frames sent / fps × window | decoded / sent | received kbit/s | sender kbit/s | link dropped / passed | tail drops | NACKs in | page lost | freezes |",
        "|---|---|---|---|---|---|---|---|---|---|",
        ...rows.map(
          (r) =>
            `| ${r.name}${r.status === "streaming" ? "" : ` (**${r.status}**: ${r.error})`} | ${fmt(100 * r.sentFraction, 1)} % | ${fmt(100 * r.deliveredFraction, 1)} % | ${fmt(r.receivedKbps)} | ${fmt(r.senderKbps)} | ${r.linkLost} / ${r.linkSent} | ${r.queueFull} | ${r.nacksIn} | ${r.pageLost} | ${r.freezes} |`,
        ),
      ].join("\n"),
    );
  }

  /** What both runs must show: still streaming and decoding, under the cap, drops seen and NACKs answered. */
  function expectBoth(rows: readonly RunFigures[], minDelivered: number): void {
    for (const r of rows) {
      expect(r.status).toBe("streaming");
      expect(r.deliveredFraction).toBeGreaterThan(minDelivered); // keeps decoding
      expect(r.receivedKbps).toBeLessThan(RATE_KBIT); // under the cap
      expect(r.linkLost).toBeGreaterThan(0);
      expect(r.nacksIn).toBeGreaterThan(0);
      // NACKs answered: most of the packets the link dropped (at random or off the full queue) were resent in time.
      expect(r.pageLost).toBeLessThan((r.linkLost + r.queueFull) / 2);
    }
  }

  const agree = (x: number, y: number) => Math.abs(x - y) / Math.max(x, y);

  test.skipIf(!isRoot)(
    `fixed encoder target at the ${RATE_KBIT} kbit/s cap, ${LOSS_PCT} % loss: kernel path (tc tbf + nft) and emulator deliver alike`,
    async () => {
      const fixed = { CONGESTION_RESPONSE: "0", VIDEO_BITRATE_KBPS: String(FIXED_KBPS) };
      const kernel = await run("kernel (tc tbf + nft numgen)", true, fixed);
      const emulator = await run("emulator (MEDIA_NET_EGRESS)", false, { ...fixed, MEDIA_NET_EGRESS: emulated });
      report(`CONGESTION_RESPONSE=0, VIDEO_BITRATE_KBPS=${FIXED_KBPS}`, [kernel, emulator]);
      expectBoth([kernel, emulator], 0.7);
      for (const r of [kernel, emulator]) if (Number.isFinite(r.senderKbps)) expect(r.senderKbps).toBeLessThan(RATE_KBIT);
      expect(agree(kernel.deliveredFraction, emulator.deliveredFraction)).toBeLessThan(AGREE_WITHIN);
      expect(agree(kernel.receivedKbps, emulator.receivedKbps)).toBeLessThan(AGREE_WITHIN);
    },
    100_000,
  );

  test.skipIf(!isRoot)(
    `congestion response on, ${RATE_KBIT} kbit/s cap, ${LOSS_PCT} % loss: both paths adapt under the cap and deliver alike`,
    async () => {
      const kernel = await run("kernel (tc tbf + nft numgen)", true, {});
      const emulator = await run("emulator (MEDIA_NET_EGRESS)", false, { MEDIA_NET_EGRESS: emulated });
      report("congestion response on", [kernel, emulator]);
      // With REMB alone, 11 of 38 runs stayed above the cap with the 50 ms queue tail-dropping (docs/network-lab.md);
      // with the loss-based bound every run adapted.
      expectBoth([kernel, emulator], 0.7);
      for (const r of [kernel, emulator]) if (Number.isFinite(r.senderKbps)) expect(r.senderKbps).toBeLessThan(RATE_KBIT);
      expect(agree(kernel.deliveredFraction, emulator.deliveredFraction)).toBeLessThan(AGREE_WITHIN);
      // Not the bitrates: with the controller in the loop each run settles at its own point under the cap
      // (373–631 kbit/s measured, pairs 5–27 % apart); the fixed-target pair above compares the links' rates.
    },
    100_000,
  );
});
