/**
 * A service's emulated link from its environment (`<PREFIX>_NET_EGRESS` / `_INGRESS`, spec texts: link-spec.ts in
 * the protocol), and the log fields naming it.
 */
import { type LinkConditions, type NetworkSettings, formatLinkConditions, parseLinkConditions } from "@ballstream/protocol";

/** Both directions of a service's link: what it sends (egress) and what it receives (ingress); undefined = untouched. */
export interface NetConditions {
  /** What the service sends. */
  readonly egress?: LinkConditions;
  /** What the service receives. */
  readonly ingress?: LinkConditions;
}

/**
 * Reads `<PREFIX>_NET_EGRESS` and `<PREFIX>_NET_INGRESS`, each falling back to `NET_EGRESS` / `NET_INGRESS` (the
 * whole process's link); throws naming the variable on a bad spec.
 */
export function netConditionsFromEnv(env: Record<string, string | undefined>, prefix: string): NetConditions {
  const read = (direction: "EGRESS" | "INGRESS"): LinkConditions | undefined => {
    const own = `${prefix}_NET_${direction}`;
    const name = env[own]?.trim() ? own : `NET_${direction}`;
    try {
      return parseLinkConditions(env[name] ?? "");
    } catch (err) {
      throw new Error(`${name}=${env[name]}: ${(err as Error).message}`);
    }
  };
  const egress = read("EGRESS");
  const ingress = read("INGRESS");
  return { ...opt("egress", egress), ...opt("ingress", ingress) };
}

/** A session's network setting as a server-side service's link: it sends what goes `down` to the page, receives what comes `up`. */
export function netConditionsOf(network: NetworkSettings): NetConditions {
  const egress = parseLinkConditions(network.down);
  const ingress = parseLinkConditions(network.up);
  return { ...opt("egress", egress), ...opt("ingress", ingress) };
}

/** Log fields naming the conditions in force (`netEgress`, `netIngress`, canonical text), none for an untouched link. */
export function netLog(net: NetConditions): { netEgress?: string; netIngress?: string } {
  return { ...opt("netEgress", net.egress && formatLinkConditions(net.egress)), ...opt("netIngress", net.ingress && formatLinkConditions(net.ingress)) };
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
