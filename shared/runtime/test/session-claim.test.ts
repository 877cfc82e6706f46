import { describe, expect, test } from "bun:test";
import { MemoryBus } from "../src/bus/memory-bus.ts";
import { encodeJson, subjects } from "@ballstream/protocol";
import { SessionClaim } from "../src/session-claim.ts";
import { collectingLogger } from "@ballstream/testing";

const ID = "AAAAAAAAAAAAAAAAAAAAAA";

describe("SessionClaim", () => {
  test("of two claimants of one channel the younger gives way, once; the older goes on claiming", async () => {
    const bus = new MemoryBus();
    const { log } = collectingLogger();
    const yielded: string[] = [];
    const older = new SessionClaim(bus, ID, "media", "old", log, () => yielded.push("old"), 20);
    await Bun.sleep(5);
    const younger = new SessionClaim(bus, ID, "media", "young", log, (to) => yielded.push(`young→${to.instance}`), 20);
    await Bun.sleep(80);
    expect(yielded).toEqual(["young→old"]);
    const heard: string[] = [];
    bus.subscribe(subjects.claim(ID, "media"), (m) => heard.push(new TextDecoder().decode(m.data)));
    await Bun.sleep(60);
    expect(heard.length).toBeGreaterThan(0);
    expect(heard.every((h) => h.includes('"old"'))).toBe(true); // the younger no longer claims
    older.release();
    younger.release();
  });

  test("a claimant of the other service, or a malformed claim, changes nothing", async () => {
    const bus = new MemoryBus();
    const { log, lines } = collectingLogger();
    let yielded = 0;
    const media = new SessionClaim(bus, ID, "media", "m", log, () => yielded++, 20);
    const generator = new SessionClaim(bus, ID, "generator", "g", log, () => yielded++, 20);
    bus.publish(subjects.claim(ID, "media"), encodeJson({ instance: "x", sinceMs: "soon" }));
    await Bun.sleep(60);
    expect(yielded).toBe(0);
    expect(lines.some((l) => l.msg === "malformed claim dropped")).toBe(true);
    // an older claim of the same service makes it yield
    bus.publish(subjects.claim(ID, "media"), encodeJson({ instance: "x", sinceMs: media.claim.sinceMs - 1 }));
    await Bun.sleep(10);
    expect(yielded).toBe(1);
    media.release();
    generator.release();
  });
});
