/**
 * A service's /metrics for its emulated links (docs/network-lab.md): the conditions in force as an info gauge,
 * sessions with a link of their own (the page's network setting), packets by outcome (delivered, lost, queue_full,
 * blackout: the service's and the sessions' links together; and their bytes, so what a sender offers a capped link
 * is read off as a rate) and the time packets waited in the bottleneck queue,
 * per direction. Each service registers them under its own name from its metrics.ts.
 */
import { Gauge, Histogram } from "prom-client";
import { type LinkConditions, formatLinkConditions } from "@ballstream/protocol";
import type { NetConditions } from "./link-emulator-config.ts";
import type { LinkObserver, LinkOutcome } from "./link-emulator.ts";
import { LATENCY_BUCKETS_S, METRIC_PREFIX, type Registry, counter } from "./metrics.ts";

/** Which way a packet goes through a service's socket. */
export type LinkDirection = "egress" | "ingress";

/** Metrics of a service's emulated links. */
export interface LinkMetrics {
  /** Shows the conditions in force for each direction (a service calls it once, at start). */
  inForce(net: NetConditions): void;
  /** Counts a session's own link going from `before` to `after` (the sessions gauge, by direction). */
  sessionLinkChanged(before: NetConditions, after: NetConditions): void;
  /** The observer for links of `direction` with `conditions` (queue delay is observed only on a capped link). */
  observer(direction: LinkDirection, conditions: LinkConditions): LinkObserver;
}

/** Registers `ballstream_<service>_net_conditions_info`, `…_net_session_links`, `…_net_packets_total`, `…_net_bytes_total` and `…_net_queue_delay_seconds` in `registry`. */
export function createLinkMetrics(registry: Registry, service: string): LinkMetrics {
  const info = new Gauge({
    name: `${METRIC_PREFIX}${service}_net_conditions_info`,
    help: "Emulated link conditions in force (1), by direction; the conditions label is their canonical text.",
    labelNames: ["direction", "conditions"],
    registers: [registry],
  });
  const sessions = new Gauge({
    name: `${METRIC_PREFIX}${service}_net_session_links`,
    help: "Sessions whose page set emulated link conditions of their own (the network panel), by direction.",
    labelNames: ["direction"],
    registers: [registry],
  });
  for (const direction of ["egress", "ingress"] as const) sessions.set({ direction }, 0);
  const packets = counter(registry, `${service}_net_packets_total`, "Packets through the emulated link, by direction and outcome.", ["direction", "outcome"]);
  const bytes = counter(registry, `${service}_net_bytes_total`, "Bytes offered to the emulated link (UDP payloads), by direction and outcome.", ["direction", "outcome"]);
  const queueDelay = new Histogram({
    name: `${METRIC_PREFIX}${service}_net_queue_delay_seconds`,
    help: "Time delivered packets waited in the emulated bottleneck queue, by direction.",
    labelNames: ["direction"],
    buckets: [0, ...LATENCY_BUCKETS_S],
    registers: [registry],
  });
  return {
    inForce(net) {
      info.reset();
      for (const direction of ["egress", "ingress"] as const) {
        const conditions = net[direction];
        if (conditions !== undefined) info.set({ direction, conditions: formatLinkConditions(conditions) }, 1);
      }
    },
    sessionLinkChanged(before, after) {
      for (const direction of ["egress", "ingress"] as const) {
        const change = Number(after[direction] !== undefined) - Number(before[direction] !== undefined);
        if (change !== 0) sessions.inc({ direction }, change);
      }
    },
    observer(direction, conditions) {
      const capped = conditions.rateBps !== undefined;
      return (outcome: LinkOutcome, size: number, queueDelayMs: number) => {
        packets.inc({ direction, outcome });
        bytes.inc({ direction, outcome }, size);
        if (capped && outcome === "delivered") queueDelay.observe({ direction }, queueDelayMs / 1000);
      };
    },
  };
}
