/**
 * The network panel's logic: ready-made conditions, the boxes' texts checked with the shared link-spec parser before
 * anything is sent (a bad text is refused on the page, not at the server), and a one-off blackout from now on top
 * of what is in force. docs/network-lab.md lists the keys.
 */
import { type LinkConditions, type NetworkSettings, ProtocolError, formatLinkConditions, parseLinkConditions, parseNetworkSettings } from "@ballstream/protocol";
import { errorText } from "./failures.ts";

/** One ready-made network: a name and each way's conditions. */
export interface NetworkPreset {
  readonly name: string;
  readonly network: NetworkSettings;
}

const both = (name: string, spec: string): NetworkPreset => ({ name, network: { down: spec, up: spec } });

/** The presets of the panel's list, from a perfect link to a poor mobile one. */
export const NETWORK_PRESETS: readonly NetworkPreset[] = [
  both("perfect (loopback)", ""),
  both("WAN: +50 ms each way", "delay=50ms"),
  both("1 % loss", "loss=1%"),
  both("5 % loss", "loss=5%"),
  both("Wi-Fi: 20 ± 10 ms, 2 % loss in bursts of 3", "loss=2%,burst=3,delay=20ms,jitter=10ms"),
  { name: "DSL: 2 Mbit/s down, 512 kbit/s up, +15 ms", network: { down: "rate=2mbit,delay=15ms", up: "rate=512kbit,delay=15ms" } },
  { name: "mobile: 600 kbit/s, +60 ms, 1 % loss", network: { down: "rate=600kbit,delay=60ms,loss=1%", up: "rate=300kbit,delay=60ms,loss=1%" } },
];

/** The network the boxes ask for, in canonical form; throws ProtocolError naming the box when a text does not parse. */
export function networkChange(down: string, up: string): NetworkSettings {
  const texts = { down, up };
  for (const way of ["down", "up"] as const) {
    try {
      parseLinkConditions(texts[way]);
    } catch (e) {
      throw new ProtocolError("bad_request", `Not applied: the ${way} box: ${errorText(e)}.`);
    }
  }
  return parseNetworkSettings(texts);
}

/** `network` with a blackout of `ms` on both ways starting when the server applies it; every other condition kept. */
export function withBlackout(network: NetworkSettings, ms: number): NetworkSettings {
  const out = (spec: string): string => {
    const conditions: LinkConditions = { ...(parseLinkConditions(spec) ?? {}), blackout: { durationMs: ms, atMs: 0 } };
    return formatLinkConditions(conditions);
  };
  return { down: out(network.down), up: out(network.up) };
}

/** One line for the page: each way's conditions, "none" for a perfect way. */
export function describeNetwork(network: NetworkSettings): string {
  return `down ${network.down || "none"} · up ${network.up || "none"}`;
}
