import { describe, expect, test } from "bun:test";
import type { K8sObject } from "../src/kustomize.ts";
import { isPinnedImage, natsCredentialViolations, networkPolicyViolations, parseQuantity, ruleViolations } from "../src/rules.ts";

const good = {
  name: "c",
  image: "ballstream/media:0.1.0",
  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
  livenessProbe: { httpGet: { path: "/healthz", port: 80 } },
  readinessProbe: { httpGet: { path: "/readyz", port: 80 } },
  resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "1Gi" } },
};
const workload = (container: Record<string, unknown>, pod: Record<string, unknown> = {}): K8sObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "w" },
  spec: { template: { spec: { terminationGracePeriodSeconds: 10, securityContext: { runAsNonRoot: true, runAsUser: 1000 }, containers: [container], ...pod } } },
});

describe("parseQuantity", () => {
  test("reads CPU and memory quantities", () => {
    expect(parseQuantity("250m")).toBeCloseTo(0.25);
    expect(parseQuantity("2")).toBe(2);
    expect(parseQuantity(2)).toBe(2);
    expect(parseQuantity("512Mi")).toBe(512 * 2 ** 20);
    expect(parseQuantity("1G")).toBe(1e9);
    expect(parseQuantity("1.5Gi")).toBe(1.5 * 2 ** 30);
  });
  test("rejects garbage", () => {
    expect(() => parseQuantity("lots")).toThrow(/bad quantity/);
    expect(() => parseQuantity("1 Mi")).toThrow(/bad quantity/);
  });
});

describe("isPinnedImage", () => {
  test("tags and digests pin, latest and no tag do not", () => {
    expect(isPinnedImage("nats:2.10-alpine")).toBe(true);
    expect(isPinnedImage("registry:5000/ballstream/media:0.1.0")).toBe(true);
    expect(isPinnedImage("ballstream/media@sha256:abc")).toBe(true);
    expect(isPinnedImage("ballstream/media")).toBe(false);
    expect(isPinnedImage("registry:5000/ballstream/media")).toBe(false);
    expect(isPinnedImage("nats:latest")).toBe(false);
    expect(isPinnedImage("nats:")).toBe(false);
  });
});

describe("ruleViolations", () => {
  test("a compliant workload has none; other kinds are not checked", () => {
    expect(ruleViolations([workload(good), { apiVersion: "v1", kind: "Service" }])).toEqual([]);
  });
  test("each missing safeguard is named", () => {
    const bad = { name: "c", image: "nats:latest", securityContext: { readOnlyRootFilesystem: false }, resources: { requests: { cpu: "2" }, limits: { cpu: "1" } } };
    const v = ruleViolations([workload(bad, { securityContext: {}, terminationGracePeriodSeconds: undefined })]);
    for (const expected of [
      "no terminationGracePeriodSeconds",
      "runAsNonRoot is not true",
      "readOnlyRootFilesystem is not true",
      "allowPrivilegeEscalation is not false",
      "capabilities do not drop ALL",
      "no livenessProbe",
      "no readinessProbe",
      "cpu request above its limit",
      "no memory request",
      "no memory limit",
      "is not pinned",
    ]) {
      expect(v.some((m) => m.includes(expected))).toBe(true);
    }
    expect(v.every((m) => m.startsWith("Deployment/w: "))).toBe(true);
  });
  test("user 0 is refused even with runAsNonRoot", () => {
    expect(ruleViolations([workload({ ...good, securityContext: { ...good.securityContext, runAsUser: 0 } })])).toEqual(["Deployment/w: container c: runs as user 0"]);
  });
  test("init containers are checked too", () => {
    expect(ruleViolations([workload(good, { initContainers: [{ ...good, name: "init", livenessProbe: undefined }] })])).toEqual(["Deployment/w: container init: no livenessProbe"]);
  });
  test("host networking needs the DNS policy that still resolves Services", () => {
    expect(ruleViolations([workload(good, { hostNetwork: true })])).toEqual(["Deployment/w: hostNetwork without dnsPolicy ClusterFirstWithHostNet"]);
    expect(ruleViolations([workload(good, { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" })])).toEqual([]);
  });
  test("a workload without a pod template is reported", () => {
    expect(ruleViolations([{ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: {} }])).toEqual(["Deployment/x: no pod template"]);
  });
});

describe("NATS credentials and network policies", () => {
  const secret: K8sObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "creds" }, data: { NATS_USER: "dQ==", NATS_PASSWORD: "cA==" } } as K8sObject;
  const config: K8sObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" }, data: { NATS_URL: "nats://nats:4222" } } as K8sObject;
  const fromSecret = (name: string, secretName = "creds") => ({ name, valueFrom: { secretKeyRef: { name: secretName, key: name } } });
  const login = [fromSecret("NATS_USER"), fromSecret("NATS_PASSWORD")];
  const client = (env: unknown[]) => workload({ ...good, envFrom: [{ configMapRef: { name: "cfg" } }], env });
  const server = (env: unknown[]): K8sObject => ({ ...workload({ ...good, image: "nats:2.10-alpine", env }), metadata: { name: "nats" } });

  test("a client (NATS_URL from a ConfigMap) and the server need the login from a Secret that has it", () => {
    expect(natsCredentialViolations([secret, config, client(login), server(login)])).toEqual([]);
    expect(natsCredentialViolations([secret, config, client([fromSecret("NATS_USER"), { name: "NATS_PASSWORD", value: "literal" }])])).toEqual([
      "Deployment/w: container c: NATS_PASSWORD is not taken from a Secret that has it",
    ]);
    expect(natsCredentialViolations([config, server([fromSecret("NATS_USER"), fromSecret("NATS_PASSWORD", "missing")])])).toHaveLength(2);
    expect(natsCredentialViolations([secret, workload(good)])).toEqual([]);
  });

  const policy = (spec: Record<string, unknown>): K8sObject => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "p" }, spec } as K8sObject);
  const denyAll = policy({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  const natsPod = server(login);
  (natsPod.spec as { template: { metadata?: unknown } }).template.metadata = { labels: { "app.kubernetes.io/name": "nats" } };
  const natsIngress = (from: unknown[] | undefined) =>
    policy({ podSelector: { matchLabels: { "app.kubernetes.io/name": "nats" } }, policyTypes: ["Ingress"], ingress: [{ ...(from ? { from } : {}), ports: [{ port: 4222 }] }] });

  test("a default deny and a NATS policy that admits only named peers on 4222", () => {
    const peers = [{ podSelector: { matchLabels: { "app.kubernetes.io/part-of": "ballstream" } } }];
    expect(networkPolicyViolations([denyAll, natsIngress(peers), natsPod])).toEqual([]);
    expect(networkPolicyViolations([natsIngress(peers), natsPod])).toEqual(["no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)"]);
    expect(networkPolicyViolations([denyAll, natsPod])).toEqual(["Deployment/nats: no NetworkPolicy lets clients reach NATS on 4222"]);
    expect(networkPolicyViolations([denyAll, natsIngress(undefined), natsPod])).toEqual(["Deployment/nats: a NetworkPolicy lets anyone reach NATS on 4222"]);
  });
});
