/**
 * The real manifests: deploy/base and every overlay build with each kustomize available here, every object
 * (StatefulSet and PodDisruptionBudget included) validates against the Kubernetes schemas and follows the
 * project's rules, the hand-over settings hold in each of them, and a broken copy fails.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type K8sObject, availableTools, buildKustomization, objectName } from "../src/kustomize.ts";
import { natsCredentialViolations, networkPolicyViolations, ruleViolations } from "../src/rules.ts";
import { validateAll } from "../src/schema.ts";

/**
 * How long a service may take from SIGTERM to exit: runStandalone's force-exit timer (every image runs its
 * service's main.ts through it), read from its source so the grace periods follow it.
 */
const SHUTDOWN_CAP_S = (() => {
  const source = readFileSync(join(import.meta.dir, "../../shared/runtime/src/standalone.ts"), "utf8");
  const ms = /onShutdownSignal\([\s\S]*?\},\s*(\d+)\);/.exec(source)?.[1];
  if (ms === undefined) throw new Error("runStandalone's shutdown timeout not found in standalone.ts");
  return Number(ms) / 1000;
})();
/** What a grace period adds beyond preStop + the shutdown cap (at least, at most): room, but no long waits in a rollout. */
const GRACE_MARGIN_S = { min: 1, max: 5 };

const deploy = join(import.meta.dir, "..");
const kustomizations = ["base", ...readdirSync(join(deploy, "overlays")).map((o) => `overlays/${o}`)];
const cases = availableTools().flatMap((tool) => kustomizations.map((k) => [k, tool.name, tool] as const));

describe.each(cases)("%s with %s", (dir, _toolName, tool) => {
  const objects = buildKustomization(join(deploy, dir), tool);

  const workload = (name: string) => objects.find((o) => ["Deployment", "StatefulSet"].includes(o.kind) && o.metadata?.name === name) as K8sObject & { spec: any };

  test("has the workloads (media a StatefulSet), their Services, disruption budgets and ConfigMaps in the ballstream namespace", () => {
    const names = objects.map(objectName);
    for (const d of ["nats", "generator", "signaling"]) expect(names).toContain(`Deployment/${d}`);
    expect(names).toContain("StatefulSet/media");
    for (const svc of ["nats", "signaling", "media", "media-0", "media-1"]) expect(names).toContain(`Service/${svc}`);
    for (const pdb of ["generator", "media"]) expect(names).toContain(`PodDisruptionBudget/${pdb}`);
    expect(names.filter((n) => n.startsWith("ConfigMap/"))).toHaveLength(2);
    for (const o of objects.filter((x) => x.kind !== "Namespace")) expect(o.metadata?.namespace).toBe("ballstream");
  });

  test("hand-over: generator and media run 2 replicas with a budget of one pod down; the generator surges before it stops one", () => {
    for (const name of ["generator", "media"]) {
      const w = workload(name);
      expect(w.spec.replicas).toBeGreaterThanOrEqual(2);
      const pdb = objects.find((o) => o.kind === "PodDisruptionBudget" && o.metadata?.name === name) as K8sObject & { spec: any };
      expect(pdb.spec.maxUnavailable).toBe(1);
      expect(pdb.spec.selector.matchLabels).toEqual(w.spec.selector.matchLabels);
    }
    expect(workload("generator").spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    // A media pod's replacement takes its name and port: one at a time, never both down (the other keeps taking offers).
    expect(workload("media").spec.updateStrategy).toEqual({ type: "RollingUpdate" });
    // One signaling: each replica has its own certificate and the page pins one's hash (docs/deploy.md "Scaling").
    expect(workload("signaling").spec.replicas).toBe(1);
  });

  test("hand-over: readiness on the endpoint that says the service takes sessions; grace periods fit preStop + the shutdown cap", () => {
    const probePath = (name: string, probe: string) => workload(name).spec.template.spec.containers[0][probe].httpGet;
    expect(probePath("signaling", "readinessProbe")).toEqual({ path: "/readyz", port: "http" });
    for (const name of ["generator", "media"]) expect(probePath(name, "readinessProbe")).toEqual({ path: "/readyz", port: "metrics" });
    expect(SHUTDOWN_CAP_S).toBeGreaterThan(0);
    for (const name of ["generator", "media", "signaling"]) {
      const pod = workload(name).spec.template.spec;
      const preStop = pod.containers[0].lifecycle?.preStop?.exec?.command as string[] | undefined;
      const preStopS = preStop?.[0] === "sleep" ? Number(preStop[1]) : 0;
      const margin = pod.terminationGracePeriodSeconds - preStopS - SHUTDOWN_CAP_S;
      expect({ name, margin }).toEqual({ name, margin: expect.any(Number) });
      expect(margin).toBeGreaterThanOrEqual(GRACE_MARGIN_S.min);
      expect(margin).toBeLessThanOrEqual(GRACE_MARGIN_S.max);
    }
    expect(workload("signaling").spec.template.spec.containers[0].lifecycle.preStop.exec.command).toEqual(["sleep", "3"]);
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
    expect(objects.filter((o) => o.kind === "Secret").map(objectName)).toEqual([expect.stringMatching(/^Secret\/nats-credentials-/), expect.stringMatching(/^Secret\/signaling-resume-/)]);
  });

  test("signaling's pods share one session resumption secret from a Secret (a page resumes on the new pod of a rollout)", () => {
    const env: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }> = workload("signaling").spec.template.spec.containers[0].env ?? [];
    const secretRef = env.find((e) => e.name === "SESSION_RESUME_SECRET")?.valueFrom?.secretKeyRef;
    expect(secretRef?.name).toMatch(/^signaling-resume-/);
    const secret = objects.find((o) => o.kind === "Secret" && objectName(o).startsWith("Secret/signaling-resume-")) as { data?: Record<string, string> } | undefined;
    expect(Buffer.from(secret?.data?.SESSION_RESUME_SECRET ?? "", "base64").length).toBeGreaterThanOrEqual(16); // what signaling accepts
  });
});

describe("a broken manifest fails validation", () => {
  const broken = (edit: (yaml: string) => string, file = "generator.yaml") => {
    const dir = mkdtempSync(join(tmpdir(), "ballstream-broken-"));
    try {
      cpSync(join(deploy, "base"), dir, { recursive: true });
      const path = join(dir, file);
      const before = readFileSync(path, "utf8");
      const after = edit(before);
      expect(after).not.toBe(before);
      writeFileSync(path, after);
      return buildKustomization(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test("a field of the wrong type is a schema error", async () => {
    const objects = broken((y) => y.replace("replicas: 2", 'replicas: "two"'));
    expect(await validateAll(objects)).toEqual([expect.stringMatching(/^Deployment\/generator: .*replicas must be integer/)]);
  });

  test("a StatefulSet and a PodDisruptionBudget are checked against their schemas too", async () => {
    const media = broken((y) => y.replace("podManagementPolicy: Parallel", "podManagementPolicy: [Parallel]"), "media.yaml");
    expect(await validateAll(media)).toEqual([expect.stringMatching(/^StatefulSet\/media: .*podManagementPolicy/)]);
    const pdb = broken((y) => y.replace("maxUnavailable: 1\n  selector", "maxUnavailable: [1]\n  selector"));
    expect(await validateAll(pdb)).toEqual([expect.stringMatching(/^PodDisruptionBudget\/generator: .*maxUnavailable/)]);
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
