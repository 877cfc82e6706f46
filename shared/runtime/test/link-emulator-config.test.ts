import { describe, expect, test } from "bun:test";
import { netConditionsFromEnv, netConditionsOf, netLog } from "../src/link-emulator-config.ts";

describe("netConditionsFromEnv", () => {
  test("reads the service's own variables, falling back to the process-wide ones", () => {
    expect(netConditionsFromEnv({}, "MEDIA")).toEqual({});
    expect(netConditionsFromEnv({ NET_EGRESS: "loss=1%", NET_INGRESS: "delay=10ms" }, "MEDIA")).toEqual({ egress: { loss: 0.01 }, ingress: { delayMs: 10 } });
    expect(netConditionsFromEnv({ NET_EGRESS: "loss=1%", MEDIA_NET_EGRESS: "loss=2%" }, "MEDIA")).toEqual({ egress: { loss: 0.02 } });
    expect(netConditionsFromEnv({ NET_EGRESS: "loss=1%", MEDIA_NET_EGRESS: "off" }, "MEDIA")).toEqual({});
  });

  test("throws naming the variable", () => {
    expect(() => netConditionsFromEnv({ SIGNALING_NET_INGRESS: "loss=2" }, "SIGNALING")).toThrow(/^SIGNALING_NET_INGRESS=loss=2: /);
    expect(() => netConditionsFromEnv({ NET_EGRESS: "delay" }, "SIGNALING")).toThrow(/^NET_EGRESS=delay: /);
  });
});

describe("netLog", () => {
  test("names the conditions in force for the log, nothing for an untouched link", () => {
    expect(netLog({})).toEqual({});
    expect(netLog({ egress: { loss: 0.05 } })).toEqual({ netEgress: "loss=5%" });
    expect(netLog({ egress: { delayMs: 5 }, ingress: { rateBps: 1e6, queueBytes: 1500 } })).toEqual({ netEgress: "delay=5ms", netIngress: "rate=1000kbit,queue=1500b" });
  });
});

describe("netConditionsOf", () => {
  test("a session's network is the service's link: down is what it sends, up what it receives", () => {
    expect(netConditionsOf({ down: "", up: "" })).toEqual({});
    expect(netConditionsOf({ down: "loss=5%", up: "delay=10ms" })).toEqual({ egress: { loss: 0.05 }, ingress: { delayMs: 10 } });
    expect(netConditionsOf({ down: "", up: "rate=1000kbit,queue=6250b" })).toEqual({ ingress: { rateBps: 1e6, queueBytes: 6250 } });
  });
});
