/** The machine a benchmark ran on: CPU, memory, load and the versions of everything in the pipeline. */
import { readFileSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { CHROMIUM_PATH, natsServerBinary } from "@ballstream/testing";

/** What {@link machineInfo} reports. */
export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly freeMemoryGiB: number;
  /** 1-minute load average when the benchmark started (other work on a shared machine shows here). */
  readonly loadAverage1m: number;
  readonly kernel: string;
  readonly versions: Readonly<Record<string, string>>;
}

/** First line of `cmd`'s output (stdout, else stderr), or "unavailable". */
export function firstLine(cmd: string[]): string {
  try {
    const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    const text = (r.stdout.toString() || r.stderr.toString()).trim();
    return text.split("\n")[0]?.trim() || "unavailable";
  } catch {
    return "unavailable";
  }
}

/** The installed version of a package of the media service (werift), or "unavailable". */
function mediaPackageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(import.meta.dir, "../../services/media/node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unavailable";
  }
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  let nats = "unavailable";
  try {
    nats = firstLine([natsServerBinary(), "--version"]);
  } catch {
    // reported as unavailable
  }
  return {
    nproc: Number(firstLine(["nproc"])) || cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: totalmem() / 2 ** 30,
    freeMemoryGiB: freemem() / 2 ** 30,
    loadAverage1m: loadavg()[0] ?? Number.NaN,
    kernel: firstLine(["uname", "-sr"]),
    versions: {
      bun: Bun.version,
      chromium: firstLine([CHROMIUM_PATH, "--version"]),
      ffmpeg: firstLine(["ffmpeg", "-version"]).replace(/ Copyright.*/, ""),
      "nats-server": nats,
      werift: mediaPackageVersion("werift"),
    },
  };
}
