import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { guardProcess, inBackground, onShutdownSignal } from "../src/lifecycle.ts";
import { collectingLogger } from "./helpers.ts";

async function runFixture(mode: string, signals: NodeJS.Signals[], graceMs = 2500) {
  const proc = Bun.spawn(["bun", join(import.meta.dir, "fixtures/shutdown-service.ts")], {
    env: { ...process.env, SHUTDOWN_MODE: mode, GRACE_MS: String(graceMs) },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stderr.getReader();
  let err = "";
  while (!err.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) break;
    err += new TextDecoder().decode(value);
  }
  for (const s of signals) proc.kill(s);
  const [stdout, exitCode] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  return { exitCode, lines, msgs: lines.map((l) => l.msg) };
}

describe("onShutdownSignal", () => {
  test("SIGTERM runs the shutdown and exits 0", async () => {
    const { exitCode, msgs, lines } = await runFixture("ok", ["SIGTERM"]);
    expect(exitCode).toBe(0);
    expect(msgs).toEqual(["shutting down", "shutdown called", "stopped"]);
    expect(lines[0]!.signal).toBe("SIGTERM");
  });

  test("two signals at once run the shutdown only once", async () => {
    // The kernel may deliver two pending signals in either order; only one shutdown may run.
    const { exitCode, msgs } = await runFixture("ok", ["SIGTERM", "SIGINT"]);
    expect(exitCode).toBe(0);
    expect(msgs).toEqual(["shutting down", "shutdown called", "stopped"]);
  });

  test("SIGINT works the same way", async () => {
    const { exitCode, lines } = await runFixture("ok", ["SIGINT"]);
    expect(exitCode).toBe(0);
    expect(lines[1]!.signal).toBe("SIGINT");
  });

  test("a failing shutdown exits 1 and logs why", async () => {
    const { exitCode, msgs } = await runFixture("throw", ["SIGTERM"]);
    expect(exitCode).toBe(1);
    expect(msgs.at(-1)).toBe("shutdown failed");
  });

  test("a hung shutdown is cut off after the grace period with exit 1", async () => {
    const { exitCode, msgs } = await runFixture("hang", ["SIGTERM"], 300);
    expect(exitCode).toBe(1);
    expect(msgs.at(-1)).toBe("shutdown took too long; exiting");
  });

  test("the returned function removes the handlers", () => {
    const { log } = collectingLogger();
    const before = [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")];
    const remove = onShutdownSignal(log, async () => {});
    expect([process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")]).toEqual([before[0]! + 1, before[1]! + 1]);
    remove();
    expect([process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")]).toEqual(before);
  });
});

describe("guardProcess", () => {
  test("an uncaught exception and an unhandled rejection are logged at error level and the process keeps running", async () => {
    const proc = Bun.spawn(["bun", join(import.meta.dir, "fixtures/guarded-service.ts")], { stdout: "pipe", stderr: "pipe" });
    const [stdout, exitCode] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    const lines = stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(exitCode).toBe(0);
    expect(lines.map((l) => l.msg).sort()).toEqual(["still serving", "uncaught exception; still serving", "unhandled promise rejection; still serving"]);
    expect(lines.filter((l) => l.msg !== "still serving").every((l) => l.level === "error")).toBe(true);
    expect(stdout).toContain("thrown from a timer");
    expect(stdout).toContain("rejected, never handled");
  });

  test("the returned function removes the handlers", () => {
    const { log } = collectingLogger();
    const before = [process.listenerCount("uncaughtException"), process.listenerCount("unhandledRejection")];
    const remove = guardProcess(log);
    expect([process.listenerCount("uncaughtException"), process.listenerCount("unhandledRejection")]).toEqual([before[0]! + 1, before[1]! + 1]);
    remove();
    expect([process.listenerCount("uncaughtException"), process.listenerCount("unhandledRejection")]).toEqual(before);
  });
});

describe("inBackground", () => {
  test("a rejection is logged at error level, naming the work; a success logs nothing", async () => {
    const { log, lines } = collectingLogger();
    inBackground(log, "reading the stream", Promise.reject(new Error("boom")));
    inBackground(log, "fine work", Promise.resolve(1));
    await Bun.sleep(1);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([["error", "reading the stream failed"]]);
  });
});
