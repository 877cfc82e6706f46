/**
 * The real manifests: deploy/base and every overlay build with each kustomize available here, every object
 * validates against the Kubernetes schemas and follows the project's rules, and a broken copy fails.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { availableTools, buildKustomization, objectName } from "../src/kustomize.ts";
import { natsCredentialViolations, networkPolicyViolations, ruleViolations } from "../src/rules.ts";
import { validateAll } from "../src/schema.ts";

const deploy = join(import.meta.dir, "..");
const kustomizations = ["base", ...readdirSync(join(deploy, "overlays")).map((o) => `overlays/${o}`)];
const cases = availableTools().flatMap((tool) => kustomizations.map((k) => [k, tool.name, tool] as const));

describe.each(cases)("%s with %s", (dir, _toolName, tool) => {
  const objects = buildKustomization(join(deploy, dir), tool);

  test("has the four Deployments, their Services and ConfigMaps in the ballstream namespace", () => {
    const names = objects.map(objectName);
    for (const d of ["nats", "generator", "media", "signaling"]) expect(names).toContain(`Deployment/${d}`);
    expect(names).toContain("Service/nats");
    expect(names).toContain("Service/signaling");
    expect(names.filter((n) => n.startsWith("ConfigMap/"))).toHaveLength(2);
    for (const o of objects.filter((x) => x.kind !== "Namespace")) expect(o.metadata?.namespace).toBe("ballstream");
  });

  test("every object validates against the Kubernetes schemas", async () => {
    expect(await validateAll(objects)).toEqual([]);
  });

  test("every workload follows the project's rules", () => {
    expect(ruleViolations(objects)).toEqual([]);
  });

  test("every NATS client and the server log in with the Secret's credentials; NetworkPolicies deny by default and guard NATS", () => {
    expect(natsCredentialViolations(objects)).toEqual([]);
    expect(networkPolicyViolations(objects)).toEqual([]);
    expect(objects.filter((o) => o.kind === "Secret").map(objectName)).toEqual([expect.stringMatching(/^Secret\/nats-credentials-/)]);
  });
});

describe("a broken manifest fails validation", () => {
  const broken = (edit: (yaml: string) => string) => {
    const dir = mkdtempSync(join(tmpdir(), "ballstream-broken-"));
    try {
      cpSync(join(deploy, "base"), dir, { recursive: true });
      const file = join(dir, "generator.yaml");
      const before = readFileSync(file, "utf8");
      const after = edit(before);
      expect(after).not.toBe(before);
      writeFileSync(file, after);
      return buildKustomization(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test("a field of the wrong type is a schema error", async () => {
    const objects = broken((y) => y.replace("replicas: 1", 'replicas: "one"'));
    expect(await validateAll(objects)).toEqual([expect.stringMatching(/^Deployment\/generator: .*replicas must be integer/)]);
  });

  test("an unknown protocol is a schema error", async () => {
    const objects = broken((y) => y.replace("protocol: TCP", "protocol: QUIC"));
    expect((await validateAll(objects))[0]).toMatch(/Deployment\/generator: .*protocol/);
  });

  test("a NATS client without its password is reported", () => {
    const objects = broken((y) => y.replace(/ {12}- name: NATS_PASSWORD\n(?:[^\n]*\n){3} {18}key: NATS_PASSWORD\n/, ""));
    expect(natsCredentialViolations(objects)).toEqual(["Deployment/generator: container generator: NATS_PASSWORD is not taken from a Secret that has it"]);
  });

  test("a writable root filesystem breaks the project's rules", () => {
    const objects = broken((y) => y.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"));
    expect(ruleViolations(objects)).toEqual(["Deployment/generator: container generator: readOnlyRootFilesystem is not true"]);
  });
});
