/**
 * The tested topology (issue 17, docs/deploy.md "Tested topology"): a kind-like cluster made of network namespaces.
 * A "node" namespace holds the pod bridge (10.244.1.0/24) and publishes three ports to its LAN side (192.168.77.1)
 * by iptables DNAT, with kube-proxy's MASQUERADE towards the pods, as kind's `extraPortMappings` + NodePort do:
 * TCP 8080 (the page, HTTPS) and UDP 4433 (WebTransport) to signaling's pod, UDP 40000 to media's pod (its one ICE
 * port, `ICE_UDP_PORT`). NATS, generator, media and signaling each run in a pod namespace of their own, over NATS
 * with a login. Chromium runs in a "client" namespace on the LAN (routed to the LAN's router, not to the pods) with
 * the stock test flags minus `--allow-loopback-in-peer-connection`, and opens `https://192.168.77.1:8080/` as a
 * person would, trusting the node's self-signed, hash-eligible certificate (the `deploy/overlays/lan` setup). Three tabs stream through the
 * NAT on media's one port; then two misconfigurations must fail with a clear message on the page: the WebTransport
 * port not published, and media advertising its pod address.
 * Needs root (ip netns, iptables): skipped otherwise, with the reason printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { CHROMIUM_ARGS, ROOT, type ServiceProcess, type TestNatsServer, spawnService, startNatsServer, udpPortsOf } from "@ballstream/testing";
import { sdpCandidateAddresses } from "@ballstream/web/ice-failure";
import { type HookSnapshot, readHook, readSamples, waitForHook } from "@ballstream/web/hook-reader";
import { removeStaleNamespaces, sh, writeChromiumWrapper } from "./harness/netns.ts";
import { type IceRoute, keepPeerConnections, readIceRoute } from "./harness/peer-connections.ts";

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log("topology: skipped, needs root (ip netns, iptables NAT); CI runs as root");

/** The node's address on the LAN, as the browser sees it; the browser's own; the LAN. */
const NODE_IP = "192.168.77.1";
const CLIENT_IP = "192.168.77.2";
const LAN = "192.168.77.0/24";
/** The LAN's router: the client's default route, no namespace answers it (packets to the pod network die there). */
const LAN_ROUTER = "192.168.77.254";
/** The pod network: the node's bridge address, then one address per pod. */
const POD_GW = "10.244.1.1";
const POD_IP = { nats: "10.244.1.2", generator: "10.244.1.3", media: "10.244.1.4", signaling: "10.244.1.5", signaling2: "10.244.1.6" } as const;
type Pod = keyof typeof POD_IP;
/** The published ports, the same numbers outside and inside (the page dials the wtPort /config.json reports; media advertises its own port). */
const HTTP_PORT = 8080;
const WT_PORT = 4433;
const ICE_PORT = 40000;
const ORIGIN = `https://${NODE_IP}:${HTTP_PORT}`;
const TABS = 3;
/** werift's mDNS responder socket (one per process, not per session: e2e/udp-mux.test.ts). */
const MDNS_PORT = 5353;
const LOOPBACK_FLAG = "--allow-loopback-in-peer-connection";
const NATS_AUTH = { user: "ballstream", pass: `topology-${crypto.randomUUID()}` };
const RESUME_SECRET = crypto.randomUUID();

/** The namespaces' names (the pid keeps runs apart and lets a later run remove a killed run's), and the files. */
interface Topology {
  readonly node: string;
  readonly client: string;
  readonly pods: Record<Pod, string>;
  readonly dir: string;
  readonly wrapper: string;
  readonly cert: string;
  readonly key: string;
}

const PREFIX = "bst";
/** The run's files (wrapper, certificate) go to `<tmp>/ballstream-topology-<pid>-…`. */
const TMP_PREFIX = "ballstream-topology-";

/** Removes the files of earlier runs whose process is gone (killed before their afterAll). */
function removeStaleFiles(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = name.startsWith(TMP_PREFIX) ? /^\d+/.exec(name.slice(TMP_PREFIX.length))?.[0] : undefined;
    if (pid !== undefined && !existsSync(`/proc/${pid}`)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function topologyFor(pid: number): Topology {
  const ns = (role: string) => `${PREFIX}${pid}${role}`;
  const dir = mkdtempSync(join(tmpdir(), `${TMP_PREFIX}${pid}-`));
  return {
    node: ns("node"),
    client: ns("client"),
    pods: { nats: ns("nats"), generator: ns("gen"), media: ns("media"), signaling: ns("sig"), signaling2: ns("sig2") },
    dir,
    wrapper: join(dir, "chromium-in-client.sh"),
    cert: join(dir, "node-cert.pem"),
    key: join(dir, "node-key.pem"),
  };
}

/** Runs `cmd` inside namespace `ns`. */
const inNs = (ns: string, cmd: string[], allowFail = false) => sh(["ip", "netns", "exec", ns, ...cmd], allowFail);

/** One published port: DNAT from the node's LAN side to a pod, as `extraPortMappings` + a NodePort do. */
const publishRule = (proto: "tcp" | "udp", port: number, pod: Pod) => ["PREROUTING", "-i", "lan0", "-p", proto, "--dport", String(port), "-j", "DNAT", "--to-destination", `${POD_IP[pod]}:${port}`];

/** Makes the namespaces, links, addresses, routes and NAT rules; everything lives inside namespaces made here. */
function buildTopology(t: Topology): void {
  for (const ns of [t.node, t.client, ...Object.values(t.pods)]) {
    sh(["ip", "netns", "add", ns]);
    sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
  }
  // The node: the pod bridge, and its LAN link to the client.
  sh(["ip", "-n", t.node, "link", "add", "br0", "type", "bridge"]);
  sh(["ip", "-n", t.node, "addr", "add", `${POD_GW}/24`, "dev", "br0"]);
  sh(["ip", "-n", t.node, "link", "set", "br0", "up"]);
  // No default route in the pods: the pod network has no way out (the LAN's flows arrive masqueraded from the
  // bridge's address, on-link). So a DNS lookup fails at once, as cluster DNS answers at once; with a route to a
  // resolver that never answers, werift's STUN lookup of stun.l.google.com (its default server when ICE_SERVERS is
  // empty) held every answer ~5 s, as long as signaling's request timeout (docs/deploy.md "Tested topology").
  for (const pod of Object.keys(POD_IP) as Pod[]) {
    const ns = t.pods[pod];
    sh(["ip", "-n", t.node, "link", "add", `v${pod}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    sh(["ip", "-n", t.node, "link", "set", `v${pod}`, "master", "br0", "up"]);
    sh(["ip", "-n", ns, "addr", "add", `${POD_IP[pod]}/24`, "dev", "eth0"]);
    sh(["ip", "-n", ns, "link", "set", "eth0", "up"]);
  }
  sh(["ip", "-n", t.node, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", t.client]);
  sh(["ip", "-n", t.node, "addr", "add", `${NODE_IP}/24`, "dev", "lan0"]);
  sh(["ip", "-n", t.node, "link", "set", "lan0", "up"]);
  // The client: a host on the LAN whose default route is the LAN's router (absent here), not the node, so the pod
  // network is unreachable from it, as from a real LAN; the route also makes Chromium gather host candidates.
  sh(["ip", "-n", t.client, "addr", "add", `${CLIENT_IP}/24`, "dev", "eth0"]);
  sh(["ip", "-n", t.client, "link", "set", "eth0", "up"]);
  sh(["ip", "-n", t.client, "route", "add", "default", "via", LAN_ROUTER]);
  // The node forwards, DNATs the published ports and masquerades the LAN's flows towards the pods (kube-proxy's
  // NodePort with externalTrafficPolicy Cluster): the pods see the node's bridge address, not the browser's.
  inNs(t.node, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  for (const rule of [publishRule("tcp", HTTP_PORT, "signaling"), publishRule("udp", WT_PORT, "signaling"), publishRule("udp", ICE_PORT, "media")]) {
    inNs(t.node, ["iptables", "-t", "nat", "-A", ...rule]);
  }
  inNs(t.node, ["iptables", "-t", "nat", "-A", "POSTROUTING", "-s", LAN, "-o", "br0", "-j", "MASQUERADE"]);
  writeChromiumWrapper(t.wrapper, t.client);
  // The node's certificate for HTTPS: self-signed ECDSA P-256 for 10 days, so /config.json also lists its hash and
  // WebTransport pins it (docs/deploy.md "Certificates"); the test's browser context trusts it for the page.
  sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "10", "-subj", "/CN=ballstream-node",
    "-addext", `subjectAltName=IP:${NODE_IP}`, "-keyout", t.key, "-out", t.cert]);
}

/** Deletes every namespace (their veths, the bridge and the NAT rules go with them) and the files. */
function removeTopology(t: Topology): void {
  for (const ns of [t.client, ...Object.values(t.pods), t.node]) sh(["ip", "netns", "del", ns], true);
  rmSync(t.dir, { recursive: true, force: true });
}

/** Packets that hit each DNAT rule of the node: the nat table sees a flow's first packet only, so these count flows. */
function dnatFlows(t: Topology): string {
  const out = inNs(t.node, ["iptables", "-t", "nat", "-L", "PREROUTING", "-n", "-v", "-x"]);
  return out
    .split("\n")
    .filter((l) => l.includes("DNAT"))
    .map((l) => {
      const f = l.trim().split(/\s+/);
      return `${f[3]}/${/dpt:(\d+)/.exec(l)?.[1]} → ${/to:(\S+)/.exec(l)?.[1]}: ${f[0]}`;
    })
    .join(", ");
}

/** One UDP flow the node NATs, from its conntrack table: the browser's side and what the pod sees. */
interface NatFlow {
  readonly from: string;
  readonly to: string;
  readonly pod: string;
  readonly podSees: string;
}

/** The node's conntrack entries of UDP flows to published `port` (`/proc/net/nf_conntrack` inside its namespace). */
function natFlows(t: Topology, port: number): NatFlow[] {
  const flows: NatFlow[] = [];
  for (const line of inNs(t.node, ["cat", "/proc/net/nf_conntrack"]).split("\n")) {
    const f = [...line.matchAll(/(src|dst|sport|dport)=(\S+)/g)].map((m) => m[2]!);
    if (!/\budp\b/.test(line) || f.length < 8 || f[3] !== String(port)) continue;
    // original direction src dst sport dport, then the reply's: src (the pod) dst (the address the pod answers) sport dport
    flows.push({ from: `${f[0]}:${f[2]}`, to: `${f[1]}:${f[3]}`, pod: `${f[4]}:${f[6]}`, podSees: `${f[5]}:${f[7]}` });
  }
  return flows;
}

/** Waits (bounded) until `p` has logged `text`; throws with its output if it exits or never does. */
async function waitForLog(p: ServiceProcess, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.output().includes(text)) return;
    const code = await p.exited(0);
    if (code !== null) throw new Error(`${p.name} exited with ${code} before "${text}":\n${p.output().slice(-4000)}`);
    await Bun.sleep(100);
  }
  throw new Error(`${p.name} did not log "${text}" within ${timeoutMs} ms:\n${p.output().slice(-4000)}`);
}

/** Waits (bounded) until the page's `/readyz` answers 200 from the client's namespace, through the node's DNAT. */
async function waitForPublishedPage(t: Topology, processes: readonly ServiceProcess[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    for (const p of processes) if ((await p.exited(0)) !== null) throw new Error(`${p.name} exited:\n${p.output().slice(-4000)}`);
    last = inNs(t.client, ["curl", "-sk", "--max-time", "2", "-o", "/dev/null", "-w", "%{http_code}", `${ORIGIN}/readyz`], true);
    if (last === "200") return;
    await Bun.sleep(250);
  }
  throw new Error(`${ORIGIN}/readyz not 200 from the client within ${timeoutMs} ms (last: ${last || "no answer"}):\n${processes.map((p) => `--- ${p.name}\n${p.output().slice(-2000)}`).join("\n")}`);
}

/** A candidate as printed; Chromium leaves a peer-reflexive local candidate's address out of getStats. */
const fmtEnd = (e: { address: string; port: number; type: string } | null) => (e ? `${e.address || "(address hidden)"}:${e.port} (${e.type})` : "none");
const done = (h: HookSnapshot) => h.status === "error" || h.status === "closed";

describe.skipIf(!isRoot)("tested topology: node NAT, pods, a browser on the LAN", () => {
  let t: Topology | undefined;
  let nats: TestNatsServer | undefined;
  const services = new Map<string, ServiceProcess>();
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let common: Record<string, string> = {};

  /** Starts `service` in its pod's namespace (`ip netns exec … bun services/<service>/src/main.ts`); `pod` defaults to the service's own. */
  function startInPod(service: "generator" | "media" | "signaling", env: Record<string, string> = {}, pod: Pod = service): ServiceProcess {
    const p = spawnService(pod, ["ip", "netns", "exec", t!.pods[pod], "bun", `services/${service}/src/main.ts`], ROOT, { ...common, ...env });
    services.set(pod, p);
    return p;
  }

  /** Signaling's settings in pod `pod`: HTTPS and WebTransport from the node's one certificate. */
  const signalingEnv = (pod: "signaling" | "signaling2") => ({
    HTTP_HOST: POD_IP[pod],
    HTTP_PORT: String(HTTP_PORT),
    WT_PORT: String(WT_PORT),
    TLS_CERT: t!.cert,
    TLS_KEY: t!.key,
    ALLOWED_ORIGINS: ORIGIN,
    SESSION_RESUME_SECRET: RESUME_SECRET, // the replicas' shared secret: either can resume the other's sessions
  });

  const mediaEnv = (advertise: string) => ({ ICE_UDP_PORT: String(ICE_PORT), ICE_ADVERTISE_ADDRESS: advertise });

  beforeAll(async () => {
    if (!isRoot) return;
    const started = performance.now();
    const stale = removeStaleNamespaces(PREFIX);
    if (stale.length > 0) console.log(`topology: removed ${stale.length} namespaces of dead runs: ${stale.join(" ")}`);
    removeStaleFiles();
    t = topologyFor(process.pid);
    buildTopology(t);
    nats = await startNatsServer({ auth: NATS_AUTH, netns: { name: t.pods.nats, host: POD_IP.nats } });
    common = { NATS_URL: nats.url, NATS_USER: NATS_AUTH.user, NATS_PASSWORD: NATS_AUTH.pass, LOG_LEVEL: "info", METRICS_HOST: "127.0.0.1" };
    const generator = startInPod("generator");
    const media = startInPod("media", mediaEnv(NODE_IP));
    const signaling = startInPod("signaling", signalingEnv("signaling"));
    // Kept as soon as it is up, so afterAll closes it even when a service failed to start meanwhile.
    const launching = chromium.launch({ executablePath: t.wrapper, args: CHROMIUM_ARGS.filter((a) => a !== LOOPBACK_FLAG), timeout: 30_000 }).then((b) => (browser = b));
    await Promise.all([launching, waitForLog(generator, "generator ready"), waitForLog(media, "media service started"), waitForPublishedPage(t, [generator, media, signaling])]);
    context = await browser!.newContext({ ignoreHTTPSErrors: true }); // stands for the user accepting the node's certificate once
    await context.addInitScript(keepPeerConnections);
    console.log(`topology: built and started in ${((performance.now() - started) / 1000).toFixed(1)} s (namespaces ${t.node}, ${t.client}, ${Object.values(t.pods).join(", ")})`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await Promise.all([...services.values()].map((p) => p.stop("SIGKILL")));
    await nats?.stop();
    if (t) {
      removeTopology(t);
      const left = sh(["ip", "netns", "list"]).split("\n").filter((l) => l.startsWith(`${PREFIX}${process.pid}`));
      expect(left).toEqual([]);
    }
  });

  /**
   * Loads the page; a load that Chromium aborts with ERR_NETWORK_CHANGED (the client namespace's link still settling
   * when the first test starts: seen once in CI) is reloaded, as a person would, at most twice.
   */
  async function load(page: Page): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await page.goto(`${ORIGIN}/`);
        return;
      } catch (err) {
        if (attempt >= 3 || !String(err).includes("ERR_NETWORK_CHANGED")) throw err;
        await Bun.sleep(500);
      }
    }
  }

  /** Opens the page as a person would and waits until it streams with frames decoded and error reports, or fails. */
  async function openSession(): Promise<{ page: Page; hook: HookSnapshot; firstFrameMs: number }> {
    const page = await context!.newPage();
    const opened = performance.now();
    await load(page);
    const hook = await waitForHook(page, "streaming with frames and reports", (h) => (h.status === "streaming" && h.inbound.framesDecoded > 0 && h.reportsReceived > 0) || done(h), 45_000);
    return { page, hook, firstFrameMs: performance.now() - opened };
  }

  test(`${TABS} sessions stream through the node's NAT, all on media's one published ICE port`, async () => {
    const m = t!;
    const media = services.get("media")!;
    const sessions: Array<Awaited<ReturnType<typeof openSession>>> = [];
    for (let i = 0; i < TABS; i++) {
      const s = await openSession();
      if (s.hook.status !== "streaming") throw new Error(`tab ${i}: ${s.hook.status}: ${s.hook.error}\n${[...services.values()].map((p) => `--- ${p.name}\n${p.output().slice(-2000)}`).join("\n")}`);
      sessions.push(s);
    }
    const config = (await sessions[0]!.page.evaluate(() => fetch("/config.json").then((r) => r.json()))) as { wtPort: number; certificateHashes?: unknown[] };
    expect(config.wtPort).toBe(WT_PORT);
    expect(config.certificateHashes?.length ?? 0).toBeGreaterThan(0); // the node's own certificate, pinned by hash
    const before = await Promise.all(sessions.map((s) => readHook(s.page)));
    await Bun.sleep(2000);
    const routes: IceRoute[] = [];
    for (const [i, s] of sessions.entries()) {
      const { page, firstFrameMs } = s;
      const hook = (await readHook(page))!;
      const route = await readIceRoute(page);
      routes.push(route);
      const advertised = sdpCandidateAddresses(route.remoteSdp ?? "");
      const offered = sdpCandidateAddresses(route.localSdp ?? "");
      const status = await page.locator("[data-testid=status]").textContent();
      const realtime = await page.locator("[data-testid=realtime-error]").textContent();
      console.log(
        `topology: tab ${i}: ${status}, first frame ${(firstFrameMs / 1000).toFixed(1)} s after opening the URL; offer has ${offered.join(", ") || "no candidate"}, answer advertises ${advertised.join(", ")}; ` +
          `selected pair ${fmtEnd(route.local)} → ${fmtEnd(route.remote)}; frames decoded ${hook.inbound.framesDecoded} (+${hook.inbound.framesDecoded - before[i]!.inbound.framesDecoded} in 2 s), ` +
          `reports ${hook.reportsReceived}, real-time error shown "${realtime}"`,
      );
      expect(status).toBe("streaming");
      expect(realtime).toMatch(/\d/);
      expect(advertised).toContain(`${NODE_IP}:${ICE_PORT}`);
      expect(route.connectionState).toBe("connected");
      expect(route.remote).toMatchObject({ address: NODE_IP, port: ICE_PORT }); // through the DNAT, not to the pod
      expect(hook.inbound.framesDecoded).toBeGreaterThan(before[i]!.inbound.framesDecoded);
      expect(hook.reportsReceived).toBeGreaterThan(before[i]!.reportsReceived);
    }
    const flows = natFlows(m, ICE_PORT);
    console.log(`topology: the node's NAT of media's port (conntrack): ${flows.map((f) => `${f.from} → ${f.to} ⇒ ${f.pod} sees ${f.podSees}`).join("; ")}`);
    expect(flows.length).toBe(TABS); // one flow per session, all into the one port
    for (const f of flows) expect([f.from.split(":")[0], f.to, f.pod, f.podSees.split(":")[0]]).toEqual([CLIENT_IP, `${NODE_IP}:${ICE_PORT}`, `${POD_IP.media}:${ICE_PORT}`, POD_GW]);
    for (const port of routes.map((r) => r.local?.port)) expect(flows.map((f) => f.podSees)).toContain(`${POD_GW}:${port}`); // the browser's peer-reflexive address is the masquerade
    const mediaPorts = udpPortsOf(media.pid);
    const signalingPorts = udpPortsOf(services.get("signaling")!.pid);
    console.log(`topology: ${TABS} sessions; media's UDP sockets in its pod: ${mediaPorts.join(", ")} (${MDNS_PORT}: werift's mDNS, per process); signaling's: ${signalingPorts.join(", ")}`);
    console.log(`topology: node DNAT flows so far: ${dnatFlows(m)}`);
    expect(mediaPorts.filter((p) => p !== MDNS_PORT)).toEqual([ICE_PORT]);
    expect(signalingPorts).toContain(WT_PORT);
    await Promise.all(sessions.map((s) => s.page.close()));
  }, 120_000);

  test("misconfigured: WebTransport's UDP port not published → the page says it cannot open WebTransport and names the port", async () => {
    const m = t!;
    inNs(m.node, ["iptables", "-t", "nat", "-D", ...publishRule("udp", WT_PORT, "signaling")]);
    try {
      const page = await context!.newPage();
      const opened = performance.now();
      await load(page);
      const hook = await waitForHook(page, "an error", (h) => done(h) || h.status === "streaming", 60_000);
      const seconds = (performance.now() - opened) / 1000;
      const shown = await page.locator("[data-testid=error]").textContent();
      console.log(`topology: WT port unpublished: after ${seconds.toFixed(1)} s the page says: ${shown}`);
      expect(hook.status).toBe("error");
      expect(shown).toContain(`Cannot open WebTransport to https://${NODE_IP}:${WT_PORT}/`);
      expect(shown).toContain(`is UDP port ${WT_PORT} reachable?`);
      await page.close();
    } finally {
      inNs(m.node, ["iptables", "-t", "nat", "-I", ...publishRule("udp", WT_PORT, "signaling")]);
    }
  }, 90_000);

  test("misconfigured: media advertises its pod address → the page says ICE failed, names that address and ICE_ADVERTISE_ADDRESS", async () => {
    const old = services.get("media")!;
    expect(await old.stop("SIGTERM")).toBe(0);
    const media = startInPod("media", mediaEnv(POD_IP.media));
    await waitForLog(media, "media service started");
    const page = await context!.newPage();
    const opened = performance.now();
    await load(page);
    const answered = await waitForHook(page, "the answer", (h) => h.status === "streaming" || done(h), 30_000);
    const answeredAt = performance.now();
    const hook = answered.status === "streaming" ? await waitForHook(page, "ICE failure", (h) => done(h) || h.inbound.framesDecoded > 0, 90_000) : answered;
    const iceSeconds = (performance.now() - answeredAt) / 1000;
    const shown = await page.locator("[data-testid=error]").textContent();
    console.log(`topology: media advertising ${POD_IP.media}: the page showed "${answered.status}" ${((answeredAt - opened) / 1000).toFixed(1)} s after opening, then ICE failed ${iceSeconds.toFixed(1)} s after the answer; it says: ${shown}`);
    expect(hook.status).toBe("error");
    expect(shown).toContain("The WebRTC connection failed: no ICE path to the media server.");
    expect(shown).toContain(`${POD_IP.media}:${ICE_PORT}`);
    expect(shown).toContain(`none of them is ${NODE_IP}`);
    expect(shown).toContain("ICE_ADVERTISE_ADDRESS");
    await page.close();
  }, 120_000);

  test("two signaling replicas behind the node's ports (one certificate): SIGKILL one and remove it from the rules, as kube-proxy does; its pages come back on the other by themselves, the others are not disturbed", async () => {
    const m = t!;
    const media = services.get("media")!; // the previous test left media advertising its pod address
    expect(await media.stop("SIGTERM")).toBe(0);
    await waitForLog(startInPod("media", mediaEnv(NODE_IP)), "media service started");
    const second = startInPod("signaling", signalingEnv("signaling2"), "signaling2");
    await waitForLog(second, "signaling running");
    // kube-proxy's Service with two endpoints: each new flow picks one at random (iptables statistic), conntrack keeps it there.
    const split = (proto: "tcp" | "udp", port: number) => [
      ["PREROUTING", "-i", "lan0", "-p", proto, "--dport", String(port), "-m", "statistic", "--mode", "random", "--probability", "0.5", "-j", "DNAT", "--to-destination", `${POD_IP.signaling2}:${port}`],
      publishRule(proto, port, "signaling"),
    ];
    for (const [proto, port] of [["tcp", HTTP_PORT], ["udp", WT_PORT]] as const) {
      inNs(m.node, ["iptables", "-t", "nat", "-D", ...publishRule(proto, port, "signaling")]);
      for (const rule of split(proto, port)) inNs(m.node, ["iptables", "-t", "nat", "-A", ...rule]);
    }
    const tabs: Page[] = [];
    for (let i = 0; i < 6; i++) {
      const s = await openSession();
      if (s.hook.status !== "streaming") throw new Error(`tab ${i}: ${s.hook.status}: ${s.hook.error}`);
      tabs.push(s.page);
    }
    // Which replica holds which tab: its WebTransport flow's conntrack entry (the page's UDP source port) → the pod.
    const holder = async (page: Page) => {
      const sessionId = (await readHook(page))!.sessionId!;
      return services.get("signaling")!.output().includes(sessionId) ? "signaling" : "signaling2";
    };
    const holders = await Promise.all(tabs.map(holder));
    const victim: "signaling" | "signaling2" = holders.filter((h) => h === "signaling").length >= holders.filter((h) => h === "signaling2").length ? "signaling" : "signaling2";
    const survivor = victim === "signaling" ? "signaling2" : "signaling";
    const before = await Promise.all(tabs.map(async (p) => (await readHook(p))!));
    const killedAt = Date.now();
    await services.get(victim)!.stop("SIGKILL");
    // The endpoint goes from the Service: only the survivor in the rules; the dead pod's address stays, silent.
    for (const [proto, port] of [["tcp", HTTP_PORT], ["udp", WT_PORT]] as const) {
      for (const rule of split(proto, port)) inNs(m.node, ["iptables", "-t", "nat", "-D", ...rule]);
      inNs(m.node, ["iptables", "-t", "nat", "-A", ...publishRule(proto, port, survivor)]);
    }
    const moved = tabs.filter((_, i) => holders[i] === victim);
    const stayed = tabs.filter((_, i) => holders[i] !== victim);
    const back = await Promise.all(moved.map((p) => waitForHook(p, "back on the survivor", (h) => h.status === "streaming" && h.resumes > before[tabs.indexOf(p)]!.resumes && h.reportsReceived > before[tabs.indexOf(p)]!.reportsReceived + 10, 30_000).then((h) => ({ h, b: before[tabs.indexOf(p)]! }))));
    const gaps = await Promise.all(moved.map(async (p) => (await readSamples(p)).find((s) => s.gapMs !== null && (s.decodedAtMs ?? s.arrivalMs) > killedAt)?.gapMs ?? Number.NaN));
    const calm = await Promise.all(stayed.map(async (p) => (await readHook(p))!));
    console.log(
      `topology: two signaling replicas, tabs on each ${holders.filter((h) => h === "signaling").length}/${holders.filter((h) => h === "signaling2").length}; ${victim} SIGKILLed: ` +
        `its ${moved.length} pages came back on ${survivor} by themselves, ${back.filter(({ h, b }) => h.sessionId === b.sessionId).length} of them resuming their session (the picture went on: frames detected meanwhile ${back.map(({ h, b }) => h.framesDetected - b.framesDetected).join(", ")}), reports' gapMs ${gaps.map((g) => g.toFixed(0)).join(", ")}; ` +
        `the other ${stayed.length} kept their sessions (resumes ${calm.map((h) => h.resumes).join(", ")})`,
    );
    expect(moved.length).toBeGreaterThan(0);
    for (const { h, b } of back) {
      expect([h.status, h.sessionId]).toEqual(["streaming", b.sessionId]); // resumed: the same session on the other replica
      expect(h.framesDetected).toBeGreaterThan(b.framesDetected + 10); // the same peer connection played on throughout
    }
    for (const g of gaps) expect(g).toBeGreaterThan(0);
    calm.forEach((h, i) => {
      const b = before[tabs.indexOf(stayed[i]!)]!;
      expect([h.status, h.sessionId, h.resumes]).toEqual(["streaming", b.sessionId, b.resumes]);
    });

    // A rolling update: the replica comes back, then the survivor (holding every page now) is taken out of the
    // rules (the endpoint goes first, as Kubernetes does on termination) and gets SIGTERM: it closes its sessions
    // with serverShutdown and every page reconnects at once to the other.
    await waitForLog(startInPod("signaling", signalingEnv(victim), victim), "signaling running");
    for (const [proto, port] of [["tcp", HTTP_PORT], ["udp", WT_PORT]] as const) {
      inNs(m.node, ["iptables", "-t", "nat", "-D", ...publishRule(proto, port, survivor)]);
      inNs(m.node, ["iptables", "-t", "nat", "-A", ...publishRule(proto, port, victim)]);
    }
    const rolling = await Promise.all(tabs.map(async (p) => (await readHook(p))!));
    const stoppedAt = Date.now();
    expect(await services.get(survivor)!.stop("SIGTERM")).toBe(0);
    const again = await Promise.all(tabs.map((p, i) => waitForHook(p, "back after the rolling update", (h) => h.status === "streaming" && h.resumes > rolling[i]!.resumes && h.reportsReceived > rolling[i]!.reportsReceived + 10, 30_000)));
    const rollingGaps = await Promise.all(tabs.map(async (p) => (await readSamples(p)).find((s) => s.gapMs !== null && (s.decodedAtMs ?? s.arrivalMs) > stoppedAt)?.gapMs ?? Number.NaN));
    console.log(`topology: rolling update of signaling: ${survivor} SIGTERMed with ${tabs.length} pages, every one back on ${victim} by itself, ${again.filter((h, i) => h.sessionId === rolling[i]!.sessionId).length} resuming its session; reports' gapMs ${rollingGaps.map((g) => g.toFixed(0)).join(", ")}`);
    again.forEach((h, i) => expect([h.status, h.sessionId]).toEqual(["streaming", rolling[i]!.sessionId]));
    for (const g of rollingGaps) expect(g).toBeGreaterThan(0);
    await Promise.all(tabs.map((p) => p.close()));
  }, 180_000);
});
