/**
 * The project's rules for workloads, beyond what the API schemas check: every container runs as non-root with a
 * read-only root filesystem, no privilege escalation and no capabilities, has liveness and readiness probes,
 * requests and limits for CPU and memory (requests within limits), and a pinned image; every pod has a
 * termination grace period, and a pod on the host network still resolves cluster DNS names. NATS: every client and
 * the server itself take the login from a Secret, and NetworkPolicies deny by default and restrict who reaches NATS.
 */
import { type K8sObject, objectName } from "./kustomize.ts";

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name?: string; key?: string } };
}
interface Container {
  name?: string;
  image?: string;
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name?: string } }>;
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

/** The login variables every NATS client and the server need, each from a Secret. */
export const NATS_CREDENTIAL_VARS = ["NATS_USER", "NATS_PASSWORD"] as const;

const workloads = (objects: readonly K8sObject[]) => objects.filter((x) => WORKLOAD_KINDS.has(x.kind));
const containersOf = (o: K8sObject) => {
  const pod = podSpecOf(o);
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
};

/** Whether a container talks to NATS: it is the server (a `nats` image) or it gets NATS_URL (directly or from a ConfigMap). */
function usesNats(c: Container, objects: readonly K8sObject[]): boolean {
  if (/^(?:.*\/)?nats[:@]/.test(c.image ?? "")) return true;
  if (c.env?.some((e) => e.name === "NATS_URL")) return true;
  return (c.envFrom ?? []).some((f) => {
    const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === f.configMapRef?.name) as { data?: Record<string, string> } | undefined;
    return cm?.data?.NATS_URL !== undefined;
  });
}

/**
 * Containers that use NATS without the login: each needs NATS_USER and NATS_PASSWORD from a `secretKeyRef` to a
 * Secret among `objects` that has that key (never a literal value). Empty when all comply.
 */
export function natsCredentialViolations(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of workloads(objects)) {
    for (const c of containersOf(o).filter((x) => usesNats(x, objects))) {
      for (const name of NATS_CREDENTIAL_VARS) {
        const ref = c.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
        const secret = objects.find((x) => x.kind === "Secret" && x.metadata?.name === ref?.name) as { data?: Record<string, string>; stringData?: Record<string, string> } | undefined;
        const hasKey = ref?.key !== undefined && (secret?.data?.[ref.key] !== undefined || secret?.stringData?.[ref.key] !== undefined);
        if (!hasKey) out.push(`${objectName(o)}: container ${c.name ?? "?"}: ${name} is not taken from a Secret that has it`);
      }
    }
  }
  return out;
}

interface NetworkPolicySpec {
  podSelector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  policyTypes?: string[];
  ingress?: Array<{ from?: unknown[]; ports?: Array<{ port?: number | string }> }>;
  egress?: unknown[];
}

const policies = (objects: readonly K8sObject[]) => objects.filter((o) => o.kind === "NetworkPolicy").map((o) => o.spec as NetworkPolicySpec);
const selects = (p: NetworkPolicySpec, labels: Record<string, string>) =>
  !p.podSelector?.matchExpressions?.length && Object.entries(p.podSelector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

/**
 * What the NetworkPolicies miss: a default deny (every pod, Ingress and Egress, no rules), and for the NATS server
 * pods (workloads running a `nats` image) a policy that selects them and lets 4222 in only from named peers.
 */
export function networkPolicyViolations(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  const all = policies(objects);
  const everyPod = (p: NetworkPolicySpec) => Object.keys(p.podSelector?.matchLabels ?? {}).length === 0 && !p.podSelector?.matchExpressions?.length;
  const denyAll = all.some((p) => everyPod(p) && ["Ingress", "Egress"].every((t) => p.policyTypes?.includes(t)) && !p.ingress?.length && !p.egress?.length);
  if (!denyAll) out.push("no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)");
  for (const o of workloads(objects).filter((w) => containersOf(w).some((c) => /^(?:.*\/)?nats[:@]/.test(c.image ?? "")))) {
    const labels = (o.spec as { template?: { metadata?: { labels?: Record<string, string> } } }).template?.metadata?.labels ?? {};
    const rules = all.filter((p) => selects(p, labels) && p.policyTypes?.includes("Ingress")).flatMap((p) => p.ingress ?? []);
    const to4222 = rules.filter((r) => !r.ports?.length || r.ports.some((port) => port.port === 4222 || port.port === "client"));
    if (to4222.length === 0) out.push(`${objectName(o)}: no NetworkPolicy lets clients reach NATS on 4222`);
    if (to4222.some((r) => !r.from?.length)) out.push(`${objectName(o)}: a NetworkPolicy lets anyone reach NATS on 4222`);
  }
  return out;
}
