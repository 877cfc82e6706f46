import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type TestNatsServer, freePort, startNatsServer } from "@ballstream/testing";

type Line = Record<string, unknown>;

/** Runs the fixture until it logs `until` (then sends SIGTERM) or exits on its own; returns its log lines and exit code. */
async function runFixture(env: Record<string, string>, until?: string): Promise<{ exitCode: number; lines: Line[] }> {
  const proc = Bun.spawn(["bun", join(import.meta.dir, "fixtures/standalone-service.ts")], {
    env: { ...process.env, LOG_LEVEL: "info", LOG_FORMAT: "json", NATS_URL: "", ...env },
    stdout: "pipe",
    stderr: "inherit",
  });
  const lines: Line[] = [];
  const reader = proc.stdout.getReader();
  let buffered = "";
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += new TextDecoder().decode(value);
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    for (const p of parts.filter((p) => p.trim() !== "")) {
      const line = JSON.parse(p) as Line;
      lines.push(line);
      if (until !== undefined && line.msg === until) proc.kill("SIGTERM");
    }
  }
  return { exitCode: await proc.exited, lines };
}

describe("runStandalone", () => {
  let nats: TestNatsServer;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats.stop();
  });

  test("runs the service on NATS and on SIGTERM stops it, drains and exits 0", async () => {
    const { exitCode, lines } = await runFixture({ NATS_URL: nats.url }, "fixture running");
    expect(exitCode).toBe(0);
    const msgs = lines.map((l) => l.msg);
    expect(msgs).toContain("service started");
    expect(msgs.indexOf("service stopped")).toBeGreaterThan(msgs.indexOf("shutting down"));
    expect(msgs.at(-1)).toBe("stopped");
    expect(lines.find((l) => l.msg === "service started")!.maxPayload).toBeGreaterThan(0);
    expect(lines.find((l) => l.msg === "fixture running")!.metricsPort).toBeGreaterThan(0);
  });

  test("without NATS_URL it says what is missing and exits 1", async () => {
    const { exitCode, lines } = await runFixture({});
    expect(exitCode).toBe(1);
    expect(lines.at(-1)!.level).toBe("fatal");
    expect(JSON.stringify(lines.at(-1))).toContain("NATS_URL is required");
  });

  test("invalid settings end the process with their message before connecting", async () => {
    const { exitCode, lines } = await runFixture({ NATS_URL: nats.url, FAIL_PLAN: "1" });
    expect(exitCode).toBe(1);
    expect(JSON.stringify(lines.at(-1))).toContain("BAD_SETTING must be a number");
  });

  test("an unreachable NATS server exits 1", async () => {
    const { exitCode, lines } = await runFixture({ NATS_URL: `nats://127.0.0.1:${await freePort()}` });
    expect(exitCode).toBe(1);
    expect(lines.at(-1)!.msg).toBe("fixture could not start");
  });
});
