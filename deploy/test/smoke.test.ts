import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type ComposeFile, withoutPorts } from "../smoke/host-compose.ts";

describe("withoutPorts", () => {
  test("drops published ports and keeps everything else", () => {
    const compose: ComposeFile = { services: { a: { image: "x:1", ports: ["1:1"], environment: { A: "1" } }, b: { image: "y:1" } }, volumes: {} };
    expect(withoutPorts(compose)).toEqual({ services: { a: { image: "x:1", environment: { A: "1" } }, b: { image: "y:1" } }, volumes: {} });
    expect(compose.services.a?.ports).toEqual(["1:1"]);
  });
  test("the real compose.yaml keeps its four services, without any ports", async () => {
    const real = Bun.YAML.parse(await Bun.file(join(import.meta.dir, "../../compose.yaml")).text()) as ComposeFile;
    const host = withoutPorts(real);
    expect(Object.keys(host.services).sort()).toEqual(["generator", "media", "nats", "signaling"]);
    for (const s of Object.values(host.services)) expect(s.ports).toBeUndefined();
  });
});
