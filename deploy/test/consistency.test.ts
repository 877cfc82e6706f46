/**
 * The deployment files agree with each other and with the code: one Bun image tag in all Dockerfiles, the same NATS
 * image and ballstream image tags in compose and Kubernetes, ports published the way the page needs them (same
 * numbers inside and out), the kind cluster's port mappings covering the overlay's NodePorts and ICE range, and
 * the scrape annotations naming the services' metrics ports; media's per-pod ICE ports (the port each pod computes
 * with media's own config code is the one its Service and the kind mappings publish; the hand-over settings are
 * checked per build in manifests.test.ts); the lan overlay's rollout; the walkthroughs of docs/deploy.md (overlay paths, image tags, workloads, minikube's ports, ICE ports) and one
 * `127.0.0.1`/`localhost` advice across the docs.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { mediaConfigFromEnv } from "@ballstream/media";
import { DEFAULT_METRICS_PORTS } from "@ballstream/runtime";
import { type K8sObject, buildKustomization } from "../src/kustomize.ts";

const root = join(import.meta.dir, "..", "..");
const read = (...p: string[]) => readFileSync(join(root, ...p), "utf8");
const SERVICES = ["generator", "media", "signaling"] as const;

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const compose = Bun.YAML.parse(read("compose.yaml")) as { services: Record<string, ComposeService> };
const base = buildKustomization(join(root, "deploy/base"));
const kind = buildKustomization(join(root, "deploy/overlays/kind"));
const cluster = Bun.YAML.parse(read("deploy/overlays/kind/cluster.yaml")) as {
  nodes: Array<{ extraPortMappings?: Array<{ containerPort: number; hostPort: number; protocol: string; listenAddress?: string }> }>;
};

interface Container {
  image: string;
  env?: Array<{ name: string; value?: string }>;
  ports?: Array<{ name: string; containerPort: number; protocol: string; hostPort?: number }>;
}
const find = (objects: K8sObject[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!o) throw new Error(`${kind}/${name} missing`);
  return o as K8sObject & { spec: any; data?: Record<string, string> };
};
const WORKLOAD_KINDS = ["Deployment", "StatefulSet"];
/** The Deployment or StatefulSet called `name`. */
const workload = (objects: K8sObject[], name: string) => {
  const o = objects.find((x) => WORKLOAD_KINDS.includes(x.kind) && x.metadata?.name === name);
  if (!o) throw new Error(`workload ${name} missing`);
  return o as K8sObject & { spec: any };
};
const container = (objects: K8sObject[], name: string): Container => workload(objects, name).spec.template.spec.containers[0];
const config = (objects: K8sObject[]) => {
  const o = objects.find((x) => x.kind === "ConfigMap" && x.metadata?.name?.startsWith("ballstream-config"));
  if (!o) throw new Error("ballstream-config missing");
  return o as K8sObject & { data: Record<string, string> };
};

describe("images", () => {
  test("the three Dockerfiles use one pinned Bun image and run their service as a non-root user", () => {
    const tags = SERVICES.map((s) => {
      const dockerfile = read(`Dockerfile.${s}`);
      expect(dockerfile).toMatch(/^USER 1000:1000$/m);
      expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
      expect(dockerfile).toContain(`--filter @ballstream/${s}`);
      expect(dockerfile).toContain(`CMD ["bun", "services/${s}/src/main.ts"]`);
      return /^ARG BUN_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    });
    expect(tags[0]).toMatch(/^oven\/bun:\d+\.\d+\.\d+/);
    expect(new Set(tags).size).toBe(1);
  });

  test("compose and Kubernetes name the same images", () => {
    expect(compose.services.nats?.image).toBe(container(base, "nats").image);
    for (const s of SERVICES) {
      expect(compose.services[s]?.image).toBe(container(base, s).image);
      expect(compose.services[s]?.build).toEqual({ context: ".", dockerfile: `Dockerfile.${s}` });
    }
  });

  test("the smoke test's stand-ins read their tags from the Dockerfiles and compose.yaml", () => {
    const standin = read("deploy/smoke/standin.sh");
    expect(standin).toContain("ARG BUN_IMAGE=");
    expect(standin).toContain("compose.yaml");
  });
});

describe("compose.yaml", () => {
  test("NATS is healthy before anything starts, with the shared config file", () => {
    expect(compose.services.nats?.healthcheck?.test.join(" ")).toContain("/healthz");
    const source = compose.services.nats?.volumes?.[0]?.split(":")[0] ?? "";
    expect(existsSync(join(root, source))).toBe(true);
    for (const s of SERVICES) expect(compose.services[s]?.depends_on?.nats?.condition).toBe("service_healthy");
    expect(compose.services.signaling?.depends_on).toEqual({
      nats: { condition: "service_healthy" },
      generator: { condition: "service_healthy" },
      media: { condition: "service_healthy" },
    });
  });

  test("signaling publishes HTTP and WebTransport on the same port numbers it listens on", () => {
    const s = compose.services.signaling!;
    expect(s.ports).toEqual([`\${HTTP_PORT:-8080}:\${HTTP_PORT:-8080}/tcp`, `\${WT_PORT:-4433}:\${WT_PORT:-4433}/udp`]);
    expect(s.environment?.HTTP_PORT).toBe("${HTTP_PORT:-8080}");
    expect(s.environment?.WT_PORT).toBe("${WT_PORT:-4433}");
  });

  test("media publishes exactly the one ICE port it uses and advertises a configurable address", () => {
    const m = compose.services.media!;
    const port = "${ICE_UDP_PORT:-40000}";
    expect(m.ports).toEqual([`${port}:${port}/udp`]);
    expect(m.environment?.ICE_UDP_PORT).toBe(port);
    expect(m.environment).not.toHaveProperty("ICE_PORT_MIN");
    expect(String(m.environment?.ICE_ADVERTISE_ADDRESS)).toMatch(/^\$\{ICE_ADVERTISE_ADDRESS:-/);
  });
});

describe("kind overlay and cluster config", () => {
  const mappings = cluster.nodes.flatMap((n) => n.extraPortMappings ?? []);
  const mapping = (containerPort: number, protocol: string) => mappings.find((m) => m.containerPort === containerPort && m.protocol === protocol);

  test("the signaling NodePorts reach the host on the ports the page uses", () => {
    const service = find(kind, "Service", "signaling");
    expect(service.spec.type).toBe("NodePort");
    const env = Object.fromEntries((container(kind, "signaling").env ?? []).map((e) => [e.name, e.value]));
    for (const p of service.spec.ports as Array<{ name: string; port: number; nodePort: number; protocol: string }>) {
      const m = mapping(p.nodePort, p.protocol);
      expect(m).toBeDefined();
      // The page is opened at the HTTP port and connects WebTransport to the WT_PORT that /config.json reports.
      expect(String(m!.hostPort)).toBe(env[p.name === "http" ? "HTTP_PORT" : "WT_PORT"]!);
      expect(p.port).toBe(m!.hostPort);
    }
  });

  test("every media pod's ICE port is mapped to the same host port, and only on loopback", () => {
    expect(config(kind).data.ICE_ADVERTISE_ADDRESS).toBe("127.0.0.1");
    const services = mediaIceServices(kind);
    for (const svc of services) expect(mapping(svc.nodePort, "UDP")?.hostPort).toBe(svc.nodePort);
    // Nothing else is mapped: the two signaling ports and one UDP port per media Service.
    expect(mappings).toHaveLength(2 + services.length);
    for (const m of mappings) expect(m.listenAddress).toBe("127.0.0.1");
  });
});

interface IceService {
  readonly name: string;
  readonly ordinal: number;
  readonly nodePort: number;
}

/**
 * Media's per-pod ICE Services of a build, checked: each selects exactly the StatefulSet pod of its ordinal, is a
 * NodePort that keeps a not-ready (draining) pod's endpoint, and publishes one UDP port with the same number
 * outside and inside, which is the port media's own config code gives that pod from the ConfigMap and POD_NAME.
 */
function mediaIceServices(objects: K8sObject[]): IceService[] {
  const media = workload(objects, "media");
  expect(media.kind).toBe("StatefulSet");
  const env = container(objects, "media").env as Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  expect(env.find((e) => e.name === "POD_NAME")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
  const services = objects
    .filter((o) => o.kind === "Service" && /^media-\d+$/.test(o.metadata?.name ?? ""))
    .map((o) => o as K8sObject & { spec: any });
  const out = services.map((svc, i): IceService => {
    const name = svc.metadata!.name!;
    expect(name).toBe(`media-${i}`); // ordinals 0…n-1, none missing
    expect(svc.spec.type).toBe("NodePort");
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.spec.selector).toEqual({ "statefulset.kubernetes.io/pod-name": name });
    expect(svc.spec.ports).toHaveLength(1);
    const [port] = svc.spec.ports as Array<{ protocol: string; port: number; targetPort: number; nodePort: number }>;
    expect(port!.protocol).toBe("UDP");
    expect([port!.port, port!.targetPort]).toEqual([port!.nodePort, port!.nodePort]);
    expect(mediaConfigFromEnv({ ...config(objects).data, POD_NAME: name }).iceUdpPort).toBe(port!.nodePort);
    return { name, ordinal: i, nodePort: port!.nodePort };
  });
  expect(out.length).toBeGreaterThanOrEqual(media.spec.replicas);
  return out;
}

describe.each([
  ["base", base],
  ["kind", kind],
])("media on the pod network, one UDP port per pod (%s)", (_name, objects) => {
  test("no pod uses the host network; every media pod has its own ICE Service", () => {
    for (const o of objects.filter((x) => WORKLOAD_KINDS.includes(x.kind))) expect((o as K8sObject & { spec: any }).spec.template.spec.hostNetwork).toBeUndefined();
    expect(mediaIceServices(objects).length).toBeGreaterThan(0);
  });

  test("media's NetworkPolicy lets anyone reach every pod's ICE port over UDP; no policy needs a node address block", () => {
    const policies = objects.filter((o) => o.kind === "NetworkPolicy").map((o) => o.spec as any);
    const ice = policies.filter((p) => p.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "media").flatMap((p) => p.ingress ?? []);
    for (const svc of mediaIceServices(objects)) {
      const open = ice.some((r: any) => !r.from && r.ports?.some((p: any) => p.protocol === "UDP" && p.port <= svc.nodePort && svc.nodePort <= (p.endPort ?? p.port)));
      expect({ service: svc.name, open }).toEqual({ service: svc.name, open: true });
    }
    expect(JSON.stringify(policies)).not.toContain("ipBlock");
  });
});

describe("lan overlay (a browser on another machine)", () => {
  const lan = buildKustomization(join(root, "deploy/overlays/lan"));
  const data = config(lan).data;
  const signaling = find(lan, "Deployment", "signaling").spec.template.spec;
  const c = signaling.containers[0] as Required<Pick<Container, "ports">> & Container & { volumeMounts: Array<{ name: string; mountPath: string }> };
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

  test("media: each pod's one ICE port on the node (its Service's NodePort), the node's address advertised, no address blocks", () => {
    expect(mediaIceServices(lan).length).toBeGreaterThan(0);
    expect(data.ICE_ADVERTISE_ADDRESS).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(workload(lan, "media").spec.template.spec.hostNetwork).toBeUndefined();
    expect(JSON.stringify(lan.filter((o) => o.kind === "NetworkPolicy"))).not.toContain("ipBlock");
  });

  test("signaling is replaced, not surged: the new pod could not bind the old one's hostPorts on the one node", () => {
    expect(find(lan, "Deployment", "signaling").spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  });

  test("signaling: HTTPS from the Secret; the page's origin is allowed; WebTransport reachable on the port /config.json reports", () => {
    expect(env.TLS_CERT).toBe("/etc/ballstream/tls/tls.crt");
    expect(env.TLS_KEY).toBe("/etc/ballstream/tls/tls.key");
    expect(c.volumeMounts.find((m) => m.name === "tls")?.mountPath).toBe("/etc/ballstream/tls");
    expect(signaling.volumes.find((v: { name: string }) => v.name === "tls")?.secret?.secretName).toBe("signaling-tls");
    const http = c.ports.find((p) => p.name === "http")!;
    const wt = c.ports.find((p) => p.name === "wt")!;
    expect(wt.hostPort).toBe(Number(env.WT_PORT)); // the page dials the number signaling reports
    expect(data.ALLOWED_ORIGINS).toBe(`https://${data.ICE_ADVERTISE_ADDRESS}:${http.hostPort}`);
  });
});

describe("docs/deploy.md walkthroughs (kind, minikube, k3s) match the manifests", () => {
  const doc = read("docs/deploy.md");
  const shell = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).join("\n");
  const lan = buildKustomization(join(root, "deploy/overlays/lan"));
  const kustomization = Bun.YAML.parse(read("deploy/base/kustomization.yaml")) as { images: Array<{ name: string; newTag: string }> };

  test("every overlay path exists and every overlay has its walkthrough", () => {
    const paths = new Set([...doc.matchAll(/deploy\/overlays\/([a-z0-9-]+)/g)].map((m) => m[1]!));
    const overlays = readdirSync(join(root, "deploy/overlays"));
    expect([...paths].sort()).toEqual([...overlays].sort());
    for (const o of overlays) expect(shell).toContain(`kubectl apply -k deploy/overlays/${o}`);
    for (const walkthrough of ["### kind", "### minikube", "### k3s"]) expect(doc).toContain(walkthrough);
  });

  test("the image tags the walkthroughs load are the ones the manifests and compose name", () => {
    const loaded = [...shell.matchAll(/\bballstream\/(?:\$s|<service>|generator|media|signaling):([\w.-]+)/g)].map((m) => m[1]!);
    expect(loaded.length).toBeGreaterThanOrEqual(3); // kind, minikube, k3s
    for (const t of loaded) expect(kustomization.images.map((i) => i.newTag)).toEqual([t, t, t]);
    for (const s of SERVICES) expect(compose.services[s]?.image).toBe(`ballstream/${s}:${loaded[0]}`);
    for (const m of shell.matchAll(/\bnats:([\w.-]+)/g)) expect(`nats:${m[1]}`).toBe(container(base, "nats").image);
  });

  test("every workload the walkthroughs wait for or scale exists with that kind; scaling stays within media's Services", () => {
    const kinds: Record<string, string> = { deploy: "Deployment", statefulset: "StatefulSet" };
    const targets = [...shell.matchAll(/\b(deploy|statefulset)\/([a-z0-9-]+)(?![\w/-])/g)];
    expect(targets.length).toBeGreaterThan(0);
    for (const [, short, name] of targets) expect(workload(kind, name!).kind).toBe(kinds[short!]!);
    for (const [, n] of shell.matchAll(/scale statefulset\/media --replicas=(\d+)/g)) {
      expect(Number(n)).toBeLessThanOrEqual(mediaIceServices(kind).length);
    }
  });

  test("minikube publishes exactly the ports kind's cluster.yaml maps", () => {
    const ports = /minikube start [^\n]*--ports=(\S+)/.exec(shell)?.[1];
    expect(ports).toBeDefined();
    const published = ports!.split(",").map((p) => {
      const [, address, host, node, proto] = /^(?:([\d.]+):)?(\d+):(\d+)(?:\/(udp|tcp))?$/.exec(p)!;
      return `${address ?? "0.0.0.0"}:${host}:${node}/${(proto ?? "tcp").toUpperCase()}`;
    });
    const mapped = cluster.nodes.flatMap((n) => n.extraPortMappings ?? []).map((m) => `${m.listenAddress ?? "0.0.0.0"}:${m.hostPort}:${m.containerPort}/${m.protocol}`);
    expect(published.sort()).toEqual(mapped.sort());
  });

  test("the ICE ports the docs state (range, firewall) are media's Services' ports", () => {
    for (const objects of [kind, lan]) {
      const ports = mediaIceServices(objects).map((svc) => svc.nodePort);
      const range = `${ports[0]}–${ports.at(-1)}`;
      expect(doc).toContain(`UDP ${range}`);
      expect(shell).toContain(`${ports[0]}-${ports.at(-1)}/udp`);
    }
    // Any other ICE-like port number in the doc would be a stale one.
    const mentioned = new Set([...doc.matchAll(/\b(3[01]\d{3})\b/g)].map((m) => Number(m[1])));
    const known = new Set([30080, 30443, 30000, 32767, ...mediaIceServices(kind).map((svc) => svc.nodePort)]);
    expect([...mentioned].filter((p) => !known.has(p))).toEqual([]);
  });
});

describe("127.0.0.1 or localhost: one advice everywhere", () => {
  const files = [
    "README.md",
    ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`),
    "compose.yaml",
    ...["deploy/base", "deploy/overlays/kind", "deploy/overlays/lan"].flatMap((d) => readdirSync(join(root, d)).filter((f) => f.endsWith(".yaml")).map((f) => `${d}/${f}`)),
  ];

  test("nothing tells the reader to avoid localhost, and no page URL to open is a localhost one", () => {
    const avoid = /(?:\bnot|\bnever|instead of|avoid)\W{0,3}(?:http:\/\/)?localhost/i;
    const openLocalhost = /\bopen\W{0,3}(?:https?:\/\/)localhost/i;
    const offending = files.flatMap((f) => read(f).split("\n").filter((l) => avoid.test(l) || openLocalhost.test(l)).map((l) => `${f}: ${l.trim()}`));
    expect(offending).toEqual([]);
  });

  test("the docs that give the advice give the same one: open 127.0.0.1, localhost works too", () => {
    expect(read("README.md")).toContain("http://localhost:8080/ works too");
    expect(read("docs/deploy.md")).toContain("`localhost` works too");
    expect(read("docs/signaling.md")).toContain("`localhost` works too");
  });
});

describe("metrics", () => {
  test("scrape annotations and container ports name the services' metrics ports", () => {
    const ports: Record<string, number> = DEFAULT_METRICS_PORTS;
    for (const s of SERVICES) {
      const template = workload(base, s).spec.template;
      expect(template.metadata.annotations["prometheus.io/port"]).toBe(String(ports[s]));
      expect(container(base, s).ports?.some((p) => p.containerPort === ports[s])).toBe(true);
    }
  });
});
