import { describe, expect, test } from "bun:test";
import type { K8sObject } from "../src/kustomize.ts";
import { isPinnedImage, parseQuantity, ruleViolations } from "../src/rules.ts";

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
