import { describe, expect, test } from "bun:test";
import { createSocket } from "node:dgram";
import { CpuWindow, corePercent, descendantsOf, ffmpegChildren, parseProcNetUdp, parseProcStat, readProcStat, treeTicks, udpPortsOf, type ProcStat } from "../src/proc.ts";

// A real line (fields after comm: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...).
const LINE = "4242 (my (odd) proc) S 17 4242 4242 0 -1 4194304 1000 0 0 0 250 50 30 20 20 0 3 0 12345 100000 200 18446744073709551615";

describe("parseProcStat", () => {
  test("reads the fields after the last parenthesis, even with spaces and parentheses in the name", () => {
    expect(parseProcStat(LINE)).toEqual({ pid: 4242, comm: "my (odd) proc", state: "S", ppid: 17, utime: 250, stime: 50, childTime: 50 });
  });
  test("rejects a malformed line", () => {
    expect(() => parseProcStat("garbage")).toThrow();
    expect(() => parseProcStat("1 (x) S 0 1")).toThrow(/field/);
  });
  test("reads this process", () => {
    const me = readProcStat(process.pid);
    expect(me?.pid).toBe(process.pid);
    expect(me?.ppid).toBe(process.ppid);
    expect(readProcStat(2 ** 30)).toBeNull();
  });
});

const stat = (pid: number, ppid: number, self: number, childTime = 0): ProcStat => ({ pid, ppid, comm: `p${pid}`, state: "S", utime: self, stime: 0, childTime });

describe("process trees", () => {
  const snapshot = [stat(1, 0, 5), stat(10, 1, 100, 7), stat(11, 10, 40), stat(12, 11, 2, 1), stat(20, 1, 999)];
  test("descendants are found through every generation, not siblings", () => {
    expect(descendantsOf(10, snapshot).map((s) => s.pid).sort()).toEqual([11, 12]);
  });
  test("tree ticks split the root's own time from its children's (live and reaped)", () => {
    expect(treeTicks(10, snapshot)).toEqual({ self: 100, children: 7 + 40 + 2 + 1 });
    expect(treeTicks(99, snapshot)).toBeNull();
  });
  test("ffmpegChildren: direct children named ffmpeg only", () => {
    const named = (pid: number, ppid: number, comm: string): ProcStat => ({ ...stat(pid, ppid, 0), comm });
    const procs = [named(30, 10, "ffmpeg"), named(31, 10, "bun"), named(32, 30, "ffmpeg"), named(33, 20, "ffmpeg")];
    expect(ffmpegChildren(10, procs)).toEqual([30]);
    expect(ffmpegChildren(99, procs)).toEqual([]);
  });
  test("corePercent", () => {
    expect(corePercent(50, 2, 100)).toBe(25);
    expect(corePercent(1, 0, 100)).toBeNaN();
  });
  test("a window over a busy child process counts its CPU as children", async () => {
    const child = Bun.spawn(["bun", "-e", "const end = Date.now() + 600; while (Date.now() < end) {}"], { stdout: "ignore" });
    const w = new CpuWindow([["me", process.pid]], 100);
    w.start();
    await child.exited;
    const [me] = w.stop();
    expect(me?.name).toBe("me");
    expect(me!.childrenPct).toBeGreaterThan(0);
  });
});

describe("UDP ports", () => {
  test("parseProcNetUdp: port (hex) by inode, header and short lines skipped", () => {
    const text = [
      "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
      " 5029: 0100007F:BEBF 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 970500 2 00000000af24024c 0",
      "10703: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 970600 2 000000008671a1ba 0",
      "garbage",
    ].join("\n");
    expect([...parseProcNetUdp(text)]).toEqual([[970500, 0xbebf], [970600, 0x14e9]]);
  });

  test("udpPortsOf finds a socket this process binds, and loses it once closed", async () => {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const port = socket.address().port;
    expect(udpPortsOf(process.pid)).toContain(port);
    await new Promise<void>((resolve) => socket.close(resolve));
    expect(udpPortsOf(process.pid)).not.toContain(port);
    expect(udpPortsOf(2 ** 22 + 7)).toEqual([]); // no such process
  });
});
