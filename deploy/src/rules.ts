/**
 * The project's rules for workloads, beyond what the API schemas check: every container runs as non-root with a
 * read-only root filesystem, no privilege escalation and no capabilities, has liveness and readiness probes,
 * requests and limits for CPU and memory (requests within limits), and a pinned image; every pod has a
 * termination grace period, and a pod on the host network still resolves cluster DNS names.
 */
import { type K8sObject, objectName } from "./kustomize.ts";

interface Container {
  name?: string;
  image?: string;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
}
interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  terminationGracePeriodSeconds?: number;
  hostNetwork?: boolean;
  dnsPolicy?: string;
}

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job"]);
const BINARY_SUFFIXES: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL_SUFFIXES: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A Kubernetes resource quantity (`250m`, `1`, `512Mi`, `1G`) as a number; throws on anything else. */
export function parseQuantity(q: string | number): number {
  if (typeof q === "number") return q;
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|m|k|M|G|T|)$/.exec(q.trim());
  if (!m) throw new Error(`bad quantity ${JSON.stringify(q)}`);
  const unit = m[2] ?? "";
  return Number(m[1]) * (BINARY_SUFFIXES[unit] ?? DECIMAL_SUFFIXES[unit] ?? 1);
}

/** Whether an image reference is pinned: a digest, or an explicit tag other than `latest`. */
export function isPinnedImage(image: string): boolean {
  if (image.includes("@sha256:")) return true;
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  return colon > 0 && colon < lastSegment.length - 1 && lastSegment.slice(colon + 1) !== "latest";
}

function containerErrors(c: Container, pod: PodSpec): string[] {
  const e: string[] = [];
  const sc = c.securityContext ?? {};
  if (!(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot)) e.push("runAsNonRoot is not true");
  if ((sc.runAsUser ?? pod.securityContext?.runAsUser) === 0) e.push("runs as user 0");
  if (sc.readOnlyRootFilesystem !== true) e.push("readOnlyRootFilesystem is not true");
  if (sc.allowPrivilegeEscalation !== false) e.push("allowPrivilegeEscalation is not false");
  if (!sc.capabilities?.drop?.includes("ALL")) e.push("capabilities do not drop ALL");
  if (!c.livenessProbe) e.push("no livenessProbe");
  if (!c.readinessProbe) e.push("no readinessProbe");
  for (const r of ["cpu", "memory"]) {
    const request = c.resources?.requests?.[r];
    const limit = c.resources?.limits?.[r];
    if (request === undefined) e.push(`no ${r} request`);
    if (limit === undefined) e.push(`no ${r} limit`);
    if (request !== undefined && limit !== undefined && parseQuantity(request) > parseQuantity(limit)) e.push(`${r} request above its limit`);
  }
  if (!c.image || !isPinnedImage(c.image)) e.push(`image ${JSON.stringify(c.image)} is not pinned (tag or digest, not latest)`);
  return e.map((msg) => `container ${c.name ?? "?"}: ${msg}`);
}

function podSpecOf(o: K8sObject): PodSpec | undefined {
  const spec = o.spec as { template?: { spec?: PodSpec } } | undefined;
  return spec?.template?.spec;
}

/** Rule violations of all workloads among `objects` (empty when all comply), each prefixed with `Kind/name`. */
export function ruleViolations(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects.filter((x) => WORKLOAD_KINDS.has(x.kind))) {
    const pod = podSpecOf(o);
    if (!pod) {
      out.push(`${objectName(o)}: no pod template`);
      continue;
    }
    const e: string[] = [];
    if (pod.terminationGracePeriodSeconds === undefined) e.push("no terminationGracePeriodSeconds");
    if (pod.hostNetwork && pod.dnsPolicy !== "ClusterFirstWithHostNet") e.push("hostNetwork without dnsPolicy ClusterFirstWithHostNet");
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) e.push(...containerErrors(c, pod));
    out.push(...e.map((msg) => `${objectName(o)}: ${msg}`));
  }
  return out;
}
