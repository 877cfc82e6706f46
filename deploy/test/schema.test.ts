import { describe, expect, test } from "bun:test";
import type { K8sObject } from "../src/kustomize.ts";
import { modelModule, schemaErrors, validateAll } from "../src/schema.ts";

const deployment = (containerExtra: Record<string, unknown> = {}, specExtra: Record<string, unknown> = {}): K8sObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d" },
  spec: {
    selector: { matchLabels: { a: "b" } },
    template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i:1", ...containerExtra }] } },
    ...specExtra,
  },
});

describe("modelModule", () => {
  test("maps core and grouped API versions", () => {
    expect(modelModule("v1")).toBe("kubernetes-models/v1");
    expect(modelModule("apps/v1")).toBe("kubernetes-models/apps/v1");
    expect(modelModule("networking.k8s.io/v1beta1")).toBe("kubernetes-models/networking.k8s.io/v1beta1");
  });
  test("rejects malformed versions", () => {
    expect(() => modelModule("../etc")).toThrow(/malformed/);
    expect(() => modelModule("")).toThrow(/malformed/);
  });
});

describe("schemaErrors", () => {
  test("a valid object has none", async () => {
    expect(await schemaErrors(deployment())).toEqual([]);
  });
  test("a wrong type is reported with the object's name", async () => {
    const errors = await schemaErrors(deployment({}, { replicas: "two" }));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^Deployment\/d: .*replicas must be integer/);
  });
  test("a value outside an enum is reported", async () => {
    expect((await schemaErrors(deployment({ ports: [{ containerPort: 4433, protocol: "QUIC" }] })))[0]).toMatch(/protocol/);
  });
  test("a missing required field is reported", async () => {
    const o = deployment();
    (o.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers = [{ image: "i:1" }];
    expect((await schemaErrors(o))[0]).toMatch(/name/);
  });
  test("unknown kinds and API versions are reported, not ignored", async () => {
    expect((await schemaErrors({ apiVersion: "apps/v1", kind: "Nonsense" }))[0]).toMatch(/no schema for apps\/v1 Nonsense/);
    expect((await schemaErrors({ apiVersion: "example.com/v1", kind: "Thing" }))[0]).toMatch(/no schema/);
  });
});

describe("validateAll", () => {
  test("collects the errors of every object", async () => {
    const errors = await validateAll([deployment(), deployment({}, { replicas: "x" }), { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ port: "http" }] } }]);
    expect(errors).toHaveLength(2);
    expect(errors[1]).toMatch(/^Service\/s: /);
  });
});
