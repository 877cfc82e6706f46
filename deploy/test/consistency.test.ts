/**
 * The deployment files agree with each other and with the code: one Bun image tag in all Dockerfiles, the same NATS
 * image and ballstream image tags in compose and Kubernetes, ports published the way the page needs them (same
 * numbers inside and out), the kind cluster's port mappings covering the overlay's NodePorts and ICE range, and
 * the scrape annotations naming the services' metrics ports.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
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
const container = (objects: K8sObject[], name: string): Container => find(objects, "Deployment", name).spec.template.spec.containers[0];
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

  test("every ICE port of media is mapped to the same host port, and only on loopback", () => {
    const data = config(kind).data;
    expect(data.ICE_ADVERTISE_ADDRESS).toBe("127.0.0.1");
    const [lo, hi] = [Number(data.ICE_PORT_MIN), Number(data.ICE_PORT_MAX)];
    expect(hi).toBeGreaterThanOrEqual(lo);
    for (let p = lo; p <= hi; p++) expect(mapping(p, "UDP")?.hostPort).toBe(p);
    expect(find(kind, "Deployment", "media").spec.template.spec.hostNetwork).toBe(true);
    for (const m of mappings) expect(m.listenAddress).toBe("127.0.0.1");
  });
});

describe("lan overlay (a browser on another machine)", () => {
  const lan = buildKustomization(join(root, "deploy/overlays/lan"));
  const data = config(lan).data;
  const signaling = find(lan, "Deployment", "signaling").spec.template.spec;
  const c = signaling.containers[0] as Required<Pick<Container, "ports">> & Container & { volumeMounts: Array<{ name: string; mountPath: string }> };
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

  test("media: one ICE port for every session, no range (they exclude each other), the node's address advertised", () => {
    expect(data.ICE_UDP_PORT).toBe("40000");
    expect([data.ICE_PORT_MIN, data.ICE_PORT_MAX]).toEqual(["", ""]);
    expect(data.ICE_ADVERTISE_ADDRESS).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(find(lan, "Deployment", "media").spec.template.spec.hostNetwork).toBe(true);
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

describe("metrics", () => {
  test("scrape annotations and container ports name the services' metrics ports", () => {
    const ports: Record<string, number> = DEFAULT_METRICS_PORTS;
    for (const s of SERVICES) {
      const template = find(base, "Deployment", s).spec.template;
      expect(template.metadata.annotations["prometheus.io/port"]).toBe(String(ports[s]));
      expect(container(base, s).ports?.some((p) => p.containerPort === ports[s])).toBe(true);
    }
  });
});
