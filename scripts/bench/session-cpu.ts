/**
 * Server CPU per private session, A against B in the same windows: for each tree (this checkout, and optionally
 * another checkout of the repository as the baseline) a nats-server, a generator and a media process, with `n`
 * light werift receivers (./light-receiver.ts, one process per tree) starting sessions over NATS as signaling does.
 * Both systems run at once, so a burst of other work on the shared machine hits both alike; every window reads
 * `/proc` CPU ticks of every process (ffmpeg encoders as media's children) and prints % of a core per session.
 *
 * `bun scripts/bench/session-cpu.ts [sessions=4] [windowS=10] [windows=3] [fps=30] [baselineRoot]`; extra
 * environment for one side: `A_ENV='K=V,K=V'` (this tree), `B_ENV=…` (the baseline).
 */
import { join } from "node:path";
import { CpuWindow, ROOT, allProcStats, clockTicksPerSecond, descendantsOf, spawnService, startNatsServer } from "@ballstream/testing";
import { startLightFleet } from "./light-fleet.ts";

const [sessions = 4, windowS = 10, windows = 3, fps = 30] = process.argv.slice(2, 6).map(Number);
const baseline = process.argv[6];
const envOf = (text: string | undefined): Record<string, string> =>
  Object.fromEntries((text ?? "").split(",").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));

/** This process's nats-server children. */
const natsPids = () => descendantsOf(process.pid, allProcStats()).filter((s) => s.comm === "nats-server").map((s) => s.pid);

async function startTree(name: string, root: string, extra: Record<string, string>) {
  const natsBefore = new Set(natsPids());
  const nats = await startNatsServer();
  const natsPid = natsPids().find((pid) => !natsBefore.has(pid)) ?? 0;
  const env = { NATS_URL: nats.url, LOG_LEVEL: "warn", METRICS_PORT: "0", METRICS_HOST: "127.0.0.1", ...extra };
  const generator = spawnService(`${name} generator`, ["bun", join(root, "services/generator/src/main.ts")], root, env);
  const media = spawnService(`${name} media`, ["bun", join(root, "services/media/src/main.ts")], root, env);
  await Bun.sleep(2000);
  const fleet = startLightFleet(nats.url);
  return {
    name,
    fleet,
    trees: [
      [`${name} generator`, generator.pid],
      [`${name} media`, media.pid],
      [`${name} nats-server`, natsPid],
    ] as const,
    stop: async () => {
      await fleet.stop();
      await Promise.all([generator.stop(), media.stop()]);
      await nats.stop();
    },
  };
}

const systems = [await startTree("A", ROOT, envOf(process.env.A_ENV))];
if (baseline) systems.push(await startTree("B", baseline, envOf(process.env.B_ENV)));
try {
  await Promise.all(systems.map((s) => s.fleet.add(sessions, fps)));
  await Bun.sleep(3000);
  const hz = clockTicksPerSecond();
  for (let w = 0; w < windows; w++) {
    const cpu = new CpuWindow(systems.flatMap((s) => [...s.trees, [`${s.name} receivers`, s.fleet.pid] as const]), hz);
    await Promise.all(systems.map((s) => s.fleet.window()));
    cpu.start();
    await Bun.sleep(windowS * 1000);
    const used = cpu.stop();
    const reports = await Promise.all(systems.map((s) => s.fleet.report()));
    const load = (await Bun.file("/proc/loadavg").text()).split(" ")[0];
    for (const [i, s] of systems.entries()) {
      const mine = used.filter((u) => u.name.startsWith(`${s.name} `) && !u.name.endsWith("receivers"));
      const per = (pct: number) => (pct / sessions).toFixed(2);
      const total = mine.reduce((t, u) => t + u.selfPct + u.childrenPct, 0);
      const sent = reports[i]!.reduce((t, c) => t + c.framesSent, 0);
      const done = reports[i]!.reduce((t, c) => t + Math.min(c.framesComplete, c.framesSent), 0);
      console.log(
        `window ${w + 1} ${s.name}: per session ${per(total)} % (${mine.map((u) => `${u.name.slice(2)} ${per(u.selfPct)}${u.childrenPct > 0.05 ? ` + ${per(u.childrenPct)}` : ""}`).join("; ")}) ` +
          `delivered ${((100 * done) / Math.max(1, sent)).toFixed(1)} % load ${load}`,
      );
    }
  }
} finally {
  await Promise.all(systems.map((s) => s.stop()));
}
