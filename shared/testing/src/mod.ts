/** Test and benchmark helpers shared by every package, e2e and the benchmarks: ports, nats-server, /proc readers, statistics, SDP fixtures, the control fuzzer. */
export { framed, controlFuzzCases, datagramFuzzCases } from "./control-fuzz.ts";
/** The seeded PRNG (mulberry32) of the link emulator, which the fuzzers use too, so a failing case can be replayed. */
export { seededRandom } from "@ballstream/runtime";
export type { ControlCase } from "./control-fuzz.ts";
export { collectingLogger, freeUdpPort, waitFor } from "./helpers.ts";
export { natsServerBinary, natsAuthorizationBlock, natsClusterBlock, freePort, startNatsServer, natsRoutes, startNatsCluster, natsNodeOf } from "./nats-server.ts";
export type { NatsServerOptions, TestNatsServer, TestNatsCluster } from "./nats-server.ts";
export { parseProcStat, clockTicksPerSecond, readProcStat, allProcStats, descendantsOf, treeTicks, corePercent, CpuWindow, ffmpegChildren, parseProcNetUdp, udpPortsOf } from "./proc.ts";
export type { ProcStat, TreeTicks, TreeCpu } from "./proc.ts";
export { CHROMIUM_OFFER, mSectionBomb } from "./sdp-fixtures.ts";
export { finite, quantile, summarize, round, sampleValue } from "./stats.ts";
export type { Summary } from "./stats.ts";
export { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium } from "./chromium.ts";
export { waitForReady } from "./readiness.ts";
export { spawnService } from "./service-process.ts";
export type { ServiceProcess } from "./service-process.ts";
export { ROOT, startOneProcess, startOverNats } from "./systems.ts";
export type { NatsSystem, RunningSystem } from "./systems.ts";
