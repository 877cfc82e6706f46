import { expect, test } from "bun:test";
import { DEFAULT_MEDIA_CONFIG, mediaConfigFromEnv } from "../src/config.ts";

test("MEDIA_NET_EGRESS / MEDIA_NET_INGRESS (default NET_EGRESS / NET_INGRESS) set the ICE sockets' emulated link; none by default", () => {
  expect(DEFAULT_MEDIA_CONFIG.net).toEqual({});
  expect(mediaConfigFromEnv({}).net).toEqual({});
  expect(mediaConfigFromEnv({ MEDIA_NET_EGRESS: "loss=5%,burst=2", NET_INGRESS: "delay=25ms" }).net).toEqual({
    egress: { gilbertElliott: { p: 0.5 * 0.05 / 0.95, r: 0.5, lossBad: 1, lossGood: 0 } },
    ingress: { delayMs: 25 },
  });
  expect(() => mediaConfigFromEnv({ MEDIA_NET_INGRESS: "rate=fast" })).toThrow("MEDIA_NET_INGRESS");
});
