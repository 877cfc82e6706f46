import { describe, expect, test } from "bun:test";
import { NO_NETWORK, ProtocolError, parseNetworkSettings } from "@ballstream/protocol";
import { NETWORK_PRESETS, describeNetwork, networkChange, withBlackout } from "../src/lib/network-controls.ts";

describe("network controls", () => {
  test("every preset is a valid network (as the boxes show it: short, not canonical), with a unique name; the first is a perfect link", () => {
    expect(NETWORK_PRESETS[0]?.network).toEqual(NO_NETWORK);
    expect(new Set(NETWORK_PRESETS.map((p) => p.name)).size).toBe(NETWORK_PRESETS.length);
    for (const preset of NETWORK_PRESETS) expect(networkChange(preset.network.down, preset.network.up), preset.name).toEqual(parseNetworkSettings(preset.network));
    expect(NETWORK_PRESETS.find((p) => p.name.startsWith("DSL"))?.network.down).toBe("rate=2mbit,delay=15ms");
  });

  test("networkChange gives the canonical texts, or refuses naming the box", () => {
    expect(networkChange(" loss=0.01 ", "off")).toEqual({ down: "loss=1%", up: "" });
    expect(() => networkChange("loss=1%", "delay=5")).toThrow(/^Not applied: the up box: .*unit/);
    expect(() => networkChange("rate=fast", "")).toThrow(ProtocolError);
  });

  test("withBlackout adds a blackout from now on both ways and keeps the rest (replacing an earlier blackout)", () => {
    expect(withBlackout(NO_NETWORK, 1000)).toEqual({ down: "blackout=1000ms,blackout-at=0ms", up: "blackout=1000ms,blackout-at=0ms" });
    const again = withBlackout({ down: "loss=5%,blackout=200ms,blackout-at=3000ms,blackout-every=5000ms", up: "delay=10ms" }, 500);
    expect(again).toEqual({ down: "loss=5%,blackout=500ms,blackout-at=0ms", up: "delay=10ms,blackout=500ms,blackout-at=0ms" });
    expect(parseNetworkSettings(again)).toEqual(again);
  });

  test("describeNetwork names each way, none for a perfect one", () => {
    expect(describeNetwork(NO_NETWORK)).toBe("down none · up none");
    expect(describeNetwork({ down: "loss=5%", up: "" })).toBe("down loss=5% · up none");
  });
});
