import { describe, expect, test } from "bun:test";
import { createLinkMetrics } from "../src/link-emulator-metrics.ts";
import { createRegistry } from "../src/metrics.ts";

describe("createLinkMetrics", () => {
  test("shows the conditions in force (replaced when told again) and counts packets by direction and outcome, queue delay only on a capped link", async () => {
    const registry = createRegistry();
    const metrics = createLinkMetrics(registry, "media");
    const net = { egress: { loss: 0.01, rateBps: 2e6, queueBytes: 65_536 }, ingress: { delayMs: 20 } };
    metrics.inForce(net);
    const egress = metrics.observer("egress", net.egress);
    const ingress = metrics.observer("ingress", net.ingress);
    egress("delivered", 1200, 4);
    egress("queue_full", 1200, 0);
    ingress("lost", 100, 0);
    ingress("delivered", 100, 0);
    const text = await registry.metrics();
    expect(text).toContain('ballstream_media_net_conditions_info{direction="egress",conditions="loss=1%,rate=2000kbit,queue=65536b"} 1');
    expect(text).toContain('ballstream_media_net_conditions_info{direction="ingress",conditions="delay=20ms"} 1');
    expect(text).toContain('ballstream_media_net_packets_total{direction="egress",outcome="queue_full"} 1');
    expect(text).toContain('ballstream_media_net_packets_total{direction="ingress",outcome="lost"} 1');
    expect(text).toContain('ballstream_media_net_queue_delay_seconds_count{direction="egress"} 1');
    expect(text).toContain('ballstream_media_net_queue_delay_seconds_sum{direction="egress"} 0.004');
    expect(text).not.toContain('ballstream_media_net_queue_delay_seconds_count{direction="ingress"}');
    metrics.inForce({ ingress: { loss: 0.02 } });
    const after = await registry.metrics();
    expect(after).toContain('ballstream_media_net_conditions_info{direction="ingress",conditions="loss=2%"} 1');
    expect(after).not.toContain('conditions_info{direction="egress"');
  });
});
