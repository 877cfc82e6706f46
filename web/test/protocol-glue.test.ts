import { describe, expect, test } from "bun:test";
import { DEFAULT_SETTINGS, ControlMessageReader, frameControlMessage } from "@ballstream/protocol";
import { parseClientConfig } from "../src/lib/client-config.ts";
import { ControlStream } from "../src/lib/control-stream.ts";
import { pageQuery, settingsFromQuery, withScene } from "../src/lib/settings-query.ts";
import { base64ToBytes, webTransportOptions, webTransportUrl } from "../src/lib/transport-options.ts";

const config = { wtPort: 4433, wtPath: "/wt", certificateHashes: [] as string[], defaults: DEFAULT_SETTINGS };

describe("ControlStream", () => {
  test("is the page's end of the shared pipe: client messages out, server messages in, a client message refused", async () => {
    const written: Uint8Array[] = [];
    const chunks = [frameControlMessage({ type: "answer", sdp: "v=0" }), frameControlMessage({ type: "stop" })];
    const readable = new ReadableStream<Uint8Array>({ start: (c) => chunks.forEach((chunk) => c.enqueue(chunk)) });
    const control = new ControlStream({ readable, writable: new WritableStream({ write: (c) => void written.push(c) }) });
    await control.send({ type: "stop" });
    expect(new ControlMessageReader().push(written[0]!)).toEqual([{ type: "stop" }]);
    const got: string[] = [];
    const read = (async () => {
      for await (const m of control.messages()) got.push(m.type);
    })();
    expect(read).rejects.toThrow(/unknown message type/);
    await read.catch(() => undefined);
    expect(got).toEqual(["answer"]);
  });
});

describe("settingsFromQuery", () => {
  test("takes known settings and ignores the rest", () => {
    expect(settingsFromQuery("?fps=60&speed=400.5&ballColor=%2300ff00&foo=1")).toEqual({ fps: 60, speed: 400.5, ballColor: "#00ff00" });
    expect(settingsFromQuery("")).toEqual({});
  });
  test("rejects out-of-range or malformed values with the shared message", () => {
    expect(() => settingsFromQuery("?fps=500")).toThrow(/fps/);
    expect(() => settingsFromQuery("?speed=fast")).toThrow(/speed/);
    expect(() => settingsFromQuery("?ballColor=red")).toThrow(/ballColor/);
    expect(settingsFromQuery("?scene=noise")).toEqual({ scene: "noise" });
    expect(() => settingsFromQuery("?scene=snow")).toThrow(/settings.scene must be one of flat, noise, texture/);
  });
  test("down and up are the network setting, in canonical form; one alone leaves the other empty; a bad one is refused", () => {
    expect(settingsFromQuery(`?fps=30&down=${encodeURIComponent("loss=0.05,delay=50ms")}`)).toEqual({ fps: 30, network: { down: "loss=5%,delay=50ms", up: "" } });
    expect(settingsFromQuery("?up=delay%3D10ms")).toEqual({ network: { down: "", up: "delay=10ms" } });
    expect(() => settingsFromQuery("?down=loss%3D200%25")).toThrow(/settings\.network\.down/);
  });
  test("withScene: the same address with scene set, other parameters kept", () => {
    expect(withScene("http://127.0.0.1:8080/?fps=60&scene=flat#x", "noise")).toBe("http://127.0.0.1:8080/?fps=60&scene=noise#x");
    expect(withScene("http://127.0.0.1:8080/", "texture")).toBe("http://127.0.0.1:8080/?scene=texture");
  });

  test("pageQuery: the settings, or none and a warning naming the bad one", () => {
    expect(pageQuery("?fps=60")).toEqual({ settings: { fps: 60 }, warning: null });
    expect(pageQuery("?fps=60&speed=fast")).toEqual({ settings: {}, warning: expect.stringMatching(/^Ignoring the URL's settings: .*speed/) });
  });
});

describe("transport options", () => {
  test("webTransportUrl uses the page's hostname and brackets IPv6", () => {
    expect(webTransportUrl(config, "localhost")).toBe("https://127.0.0.1:4433/wt");
    expect(webTransportUrl(config, "example.test")).toBe("https://example.test:4433/wt");
    expect(webTransportUrl(config, "::1")).toBe("https://[::1]:4433/wt");
  });
  test("base64ToBytes decodes", () => {
    expect([...base64ToBytes("AQID")]).toEqual([1, 2, 3]);
  });
  test("webTransportOptions omits hashes when there are none", () => {
    expect(webTransportOptions(config)).toEqual({});
    const o = webTransportOptions({ ...config, certificateHashes: ["AQID"] });
    expect(o.serverCertificateHashes?.[0]?.algorithm).toBe("sha-256");
    expect([...(o.serverCertificateHashes?.[0]?.value as Uint8Array)]).toEqual([1, 2, 3]);
  });
});

describe("parseClientConfig", () => {
  test("accepts a valid config and fills default settings", () => {
    const c = parseClientConfig({ wtPort: 4433, wtPath: "/wt", certificateHashes: ["AQID"], defaults: { fps: 60 } });
    expect(c.wtPort).toBe(4433);
    expect(c.defaults.fps).toBe(60);
    expect(c.defaults.radius).toBe(DEFAULT_SETTINGS.radius);
  });
  test("rejects bad fields", () => {
    expect(() => parseClientConfig({ wtPort: 0, wtPath: "/wt" })).toThrow(/wtPort/);
    expect(() => parseClientConfig({ wtPort: 1, wtPath: "wt" })).toThrow(/wtPath/);
    expect(() => parseClientConfig({ wtPort: 1, wtPath: "/wt", certificateHashes: "x" })).toThrow(/certificateHashes/);
    expect(() => parseClientConfig({ wtPort: 1, wtPath: "/wt", certificateHashes: ["not base64!"] })).toThrow(/certificateHashes/);
    expect(() => parseClientConfig(null)).toThrow(/config/);
  });
});
