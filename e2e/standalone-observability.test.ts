/**
 * Each service run standalone (its `main.ts`, a real nats-server that requires a user and password, as in compose
 * or Kubernetes) serves `/metrics` on its METRICS_PORT behind the METRICS_TOKEN bearer token, with its own metrics
 * and process metrics labelled with its name, and every line it logs, from start to graceful
 * shutdown, is JSON with `level`, `time`, `service` and `msg`. Services not written yet are skipped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type TestNatsServer, freePort, startNatsServer } from "@ballstream/testing";

const root = join(import.meta.dir, "..");
const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"];

interface Case {
  readonly service: "generator" | "media" | "signaling";
  /** A metric family the service registers at start. */
  readonly family: string;
}

const cases: Case[] = [
  { service: "generator", family: "ballstream_generator_frames_produced_total" },
  { service: "media", family: "ballstream_media_frames_sent_total" },
  { service: "signaling", family: "ballstream_signaling_latency_seconds" },
];

const NATS_AUTH = { user: "ballstream", pass: "e2e-password" };
const TOKEN = "e2e-scrape-token";

let nats: TestNatsServer;
beforeAll(async () => {
  nats = await startNatsServer({ auth: NATS_AUTH });
});
afterAll(async () => {
  await nats.stop();
});

for (const c of cases) {
  const main = join(root, "services", c.service, "src", "main.ts");
  describe.skipIf(!existsSync(main))(`${c.service} standalone`, () => {
    test("serves /metrics with its metrics and process metrics, and logs only JSON lines", async () => {
      const port = await freePort();
      const proc = Bun.spawn(["bun", main], {
        cwd: root,
        env: {
          ...process.env,
          NATS_URL: nats.url,
          NATS_USER: NATS_AUTH.user,
          NATS_PASSWORD: NATS_AUTH.pass,
          LOG_LEVEL: "debug",
          LOG_FORMAT: "",
          METRICS_PORT: String(port),
          METRICS_TOKEN: TOKEN,
          HTTP_PORT: "0",
          WT_PORT: "0",
        },
        stdout: "pipe",
        stderr: "pipe",
      });
      try {
        let text = "";
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline && proc.exitCode === null) {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => undefined);
          if (res?.status === 200) {
            text = await res.text();
            break;
          }
          await Bun.sleep(200);
        }
        if (text === "") {
          proc.kill("SIGKILL");
          throw new Error(`no /metrics from ${c.service}: ${(await new Response(proc.stderr).text()).slice(0, 2000)}`);
        }
        expect(text).toContain(`# TYPE ${c.family} `);
        expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
        expect(text).toMatch(new RegExp(`^process_cpu_seconds_total\\{service="${c.service}"\\} `, "m"));
        expect(text).toMatch(new RegExp(`^process_resident_memory_bytes\\{service="${c.service}"\\} `, "m"));
      } finally {
        proc.kill("SIGTERM");
      }
      const [stdout, exitCode] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      expect(exitCode).toBe(0);
      const lines = stdout.split("\n").filter((l) => l.length > 0);
      expect(lines.length).toBeGreaterThan(1);
      expect(stdout).not.toContain(NATS_AUTH.pass);
      expect(stdout).not.toContain(TOKEN);
      for (const line of lines) {
        const o = JSON.parse(line) as Record<string, unknown>;
        expect(LEVELS).toContain(o.level as string);
        expect(new Date(o.time as string).toISOString()).toBe(o.time as string);
        expect(o.service).toBe(c.service);
        expect(typeof o.msg).toBe("string");
      }
      expect(lines.some((l) => JSON.parse(l).msg === "stopped")).toBe(true);
    }, 60_000);
  });
}
