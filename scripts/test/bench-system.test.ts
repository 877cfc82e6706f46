import { describe, expect, test } from "bun:test";
import { firstLine, machineInfo } from "../bench/machine.ts";
import { treeRoot } from "../bench/system.ts";
import { benchScripts, printedFigures } from "../bench/sub-benchmarks.ts";
import type { ProcStat } from "@ballstream/testing";

describe("system helpers", () => {
  test("treeRoot finds the top process of a tree below this one", () => {
    const s = (pid: number, ppid: number, comm: string): ProcStat => ({ pid, ppid, comm, state: "S", utime: 0, stime: 0, childTime: 0 });
    const stats = [s(process.pid, 1, "bun"), s(900, process.pid, "chromium"), s(901, 900, "chromium"), s(902, 900, "chrome_crashpad"), s(50, 1, "chromium")];
    expect(treeRoot("chrom", stats)).toBe(900);
    expect(treeRoot("nats-server", stats)).toBeNull();
  });
});

describe("machine", () => {
  test("firstLine runs a command, or says unavailable", () => {
    expect(firstLine(["echo", "a\nb"])).toBe("a");
    expect(firstLine(["/nonexistent/binary"])).toBe("unavailable");
  });
  test("machineInfo describes this machine", () => {
    const m = machineInfo();
    expect(m.nproc).toBeGreaterThan(0);
    expect(m.memoryGiB).toBeGreaterThan(0);
    expect(m.versions.bun).toBe(Bun.version);
  });
});

describe("sub-benchmarks", () => {
  test("printedFigures drops JSON log lines and blanks", () => {
    expect(printedFigures('raster 1 ms\n{"level":"warn"}\n\n  p50 2 ms  \n')).toEqual(["raster 1 ms", "  p50 2 ms"]);
  });
  test("benchScripts lists the packages' bench files, generator first", () => {
    const files = benchScripts();
    expect(files[0]).toEndWith("services/generator/bench/generator.ts");
    expect(files.some((f) => f.endsWith("web/bench/detect.ts"))).toBe(true);
  });
});
