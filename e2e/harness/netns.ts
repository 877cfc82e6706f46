/**
 * Network-namespace helpers of the root-only e2e suites (kernel-link, topology): running a command, removing the
 * namespaces that runs killed mid-way left behind (their names carry the runner's pid), and the wrapper script that
 * starts Chromium inside a namespace.
 */
import { existsSync, writeFileSync } from "node:fs";
import { CHROMIUM_PATH } from "@ballstream/testing";

/** Runs a command; throws with its stderr when it fails (unless `allowFail`); returns its stdout. */
export function sh(cmd: string[], allowFail = false): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0 && !allowFail) throw new Error(`${cmd.join(" ")} → exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** The namespaces of an `ip netns list` output named `<prefix><pid>…` whose pid is not `alive`. */
export function staleNamespaces(listing: string, prefix: string, alive: (pid: number) => boolean): string[] {
  const out: string[] = [];
  for (const line of listing.split("\n")) {
    const name = line.trim().split(/\s+/)[0] ?? "";
    if (!name.startsWith(prefix)) continue;
    const pid = /^\d+/.exec(name.slice(prefix.length))?.[0];
    if (pid !== undefined && !alive(Number(pid))) out.push(name);
  }
  return out;
}

/**
 * Deletes the namespaces (and with them their veths, bridges and iptables rules) of earlier runs whose process is
 * gone, after killing the processes that run killed mid-way left inside them (`ip netns pids`: only those).
 */
export function removeStaleNamespaces(prefix: string): string[] {
  const stale = staleNamespaces(sh(["ip", "netns", "list"]), prefix, (pid) => existsSync(`/proc/${pid}`));
  for (const ns of stale) {
    for (const pid of sh(["ip", "netns", "pids", ns], true).split(/\s+/).filter(Boolean)) sh(["kill", "-KILL", pid], true);
    sh(["ip", "netns", "del", ns], true);
  }
  return stale;
}

/**
 * Writes an executable script at `path` that runs Chromium inside namespace `ns`: playwright drives the browser
 * over a pipe (fds 3 and 4), which `ip netns exec` passes through.
 */
export function writeChromiumWrapper(path: string, ns: string, chromium = CHROMIUM_PATH): void {
  writeFileSync(path, `#!/bin/sh\nexec ip netns exec ${ns} ${chromium} "$@"\n`, { mode: 0o755 });
}
