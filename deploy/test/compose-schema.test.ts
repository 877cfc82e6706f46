import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { composeErrors } from "../src/compose-schema.ts";

const root = join(import.meta.dir, "..", "..");
const load = async (path: string) => Bun.YAML.parse(await Bun.file(join(root, path)).text()) as { services: Record<string, Record<string, unknown>> };

describe("composeErrors", () => {
  test.each(["compose.yaml", "deploy/smoke/compose.host.yaml"])("%s follows the Compose Specification", async (path) => {
    expect(composeErrors(await load(path))).toEqual([]);
  });

  test("an unknown key is named", async () => {
    const compose = await load("compose.yaml");
    compose.services.media!.portz = [];
    expect(composeErrors(compose)).toEqual(["/services/media: must NOT have additional properties (portz)"]);
  });

  test("a wrong type and a malformed duration are reported", async () => {
    const compose = await load("compose.yaml");
    (compose.services.nats!.healthcheck as Record<string, unknown>).interval = 5;
    compose.services.media!.stop_grace_period = "ten seconds";
    const errors = composeErrors(compose);
    expect(errors).toContain("/services/nats/healthcheck/interval: must be string");
    expect(errors.some((e) => e.startsWith("/services/media/stop_grace_period: must match format"))).toBe(true);
  });

  test("something that is not a Compose file at all is rejected", () => {
    expect(composeErrors("services")).not.toEqual([]);
  });
});

describe("docker-compose v1", () => {
  test.skipIf(!Bun.which("docker-compose"))("accepts compose.yaml (`docker-compose config`)", () => {
    const r = Bun.spawnSync(["docker-compose", "-f", join(root, "compose.yaml"), "config", "-q"], { stdout: "pipe", stderr: "pipe" });
    expect({ code: r.exitCode, stderr: r.stderr.toString() }).toEqual({ code: 0, stderr: "" });
  });
});
