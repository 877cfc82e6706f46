/**
 * A format-aware fuzzer for the page → signaling protocol (shared/src/wt-protocol.ts): control-stream inputs with
 * valid framing and hostile content (sizes at and past every limit, escapes, deep nesting, wrong types, invalid
 * UTF-8, unknown fields, prototype keys), broken framing, and hostile datagrams. Seeded, so a failing case can be
 * replayed by its label. Every control case is invalid: the server must answer it with an `error` message and a
 * clean close. Datagram cases must be dropped and counted without ending the session.
 */
import { MAX_SDP_LENGTH, COORDINATES_BYTES, ControlMessageReader, MAX_CONTROL_MESSAGE_BYTES, parseClientMessage } from "@ballstream/protocol";
import { seededRandom } from "@ballstream/runtime";
import { CHROMIUM_OFFER, mSectionBomb } from "./sdp-fixtures.ts";

/** One control-stream input: the bytes the page sends, and whether it then ends the stream. */
export interface ControlCase {
  readonly label: string;
  readonly bytes: Uint8Array;
  readonly fin: boolean;
}

/** A control message frame around any bytes: 4-byte big-endian length, then the bytes (the length may lie). */
export function framed(body: Uint8Array, declaredLength = body.length): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, declaredLength >>> 0);
  out.set(body, 4);
  return out;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const json = (value: unknown) => utf8(JSON.stringify(value));

/** A JSON text of exactly `size` bytes: an unknown message type padded with a string field. */
function paddedUnknown(size: number): Uint8Array {
  const head = '{"type":"x","pad":"';
  return utf8(`${head}${"a".repeat(size - head.length - 2)}"}`);
}

/** The fixed cases: every limit, at and past it, and each kind of hostile content once. */
function fixedCases(): ControlCase[] {
  const cases: Array<[string, Uint8Array, boolean?]> = [
    ["length past the limit, no body", framed(new Uint8Array(0), MAX_CONTROL_MESSAGE_BYTES + 1)],
    ["length 2^32-1", framed(new Uint8Array(0), 0xffffffff)],
    ["message of exactly the limit (unknown type)", framed(paddedUnknown(MAX_CONTROL_MESSAGE_BYTES))],
    ["message one byte past the limit", framed(paddedUnknown(MAX_CONTROL_MESSAGE_BYTES + 1))],
    ["empty message", framed(new Uint8Array(0))],
    ["stream ends inside the length", Uint8Array.of(0, 0), true],
    ["stream ends inside a message", framed(json({ type: "stop" }), 100), true],
    ["unknown type of 65,500 characters", framed(json({ type: "x".repeat(65_500) }))],
    ["unknown type of escapes", framed(json({ type: '"\\\u0000\u2028\ud800'.repeat(6000) }))],
    ["unknown type, lone surrogate escapes", framed(utf8(`{"type":"${"\\ud800".repeat(10_000)}"}`))],
    ["invalid UTF-8: 0xff", framed(Uint8Array.of(0x7b, 0xff, 0x7d))],
    ["invalid UTF-8: overlong NUL", framed(Uint8Array.of(...utf8('{"type":"'), 0xc0, 0x80, ...utf8('"}')))],
    ["invalid UTF-8: truncated sequence", framed(Uint8Array.of(...utf8('{"type":"'), 0xe2, 0x82, ...utf8('"}')))],
    ["invalid UTF-8: encoded surrogate", framed(Uint8Array.of(...utf8('{"type":"'), 0xed, 0xa0, 0x80, ...utf8('"}')))],
    ["byte-order mark before an unknown type (JSON parsers may skip a BOM)", framed(Uint8Array.of(0xef, 0xbb, 0xbf, ...json({ type: "x" })))],
    ["NUL bytes", framed(new Uint8Array(64))],
    ["JSON with trailing garbage", framed(utf8('{"type":"stop"} x'))],
    ["nesting 20,000 deep", framed(utf8(`${"[".repeat(20_000)}${"]".repeat(20_000)}`))],
    ["object nesting 10,000 deep", framed(utf8(`${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`))],
    ["top-level number", framed(json(1))],
    ["top-level string", framed(json("offer"))],
    ["top-level null", framed(json(null))],
    ["top-level array", framed(json([{ type: "stop" }]))],
    ["type is a number", framed(json({ type: 1 }))],
    ["type is an object", framed(json({ type: { toString: "offer" } }))],
    ["type is an array", framed(json({ type: ["offer"] }))],
    ["__proto__ type", framed(utf8('{"__proto__":{"type":"stop"}}'))],
    ["constructor key", framed(utf8('{"constructor":{"prototype":{"type":"stop"}}}'))],
    ["offer without sdp", framed(json({ type: "offer" }))],
    ["offer with sdp as object", framed(json({ type: "offer", sdp: { v: 0 } }))],
    ["offer with sdp past MAX_SDP_LENGTH", framed(json({ type: "offer", sdp: "v".repeat(MAX_SDP_LENGTH + 1) }))],
    ["offer with garbage sdp at MAX_SDP_LENGTH", framed(json({ type: "offer", sdp: "x".repeat(MAX_SDP_LENGTH) }))],
    ["offer with the m-section bomb", framed(json({ type: "offer", sdp: mSectionBomb(380) }))],
    ["offer with fps as a string", framed(json({ type: "offer", sdp: CHROMIUM_OFFER, settings: { fps: "60" } }))],
    ["offer with fps 1e999", framed(utf8(`{"type":"offer","sdp":${JSON.stringify(CHROMIUM_OFFER)},"settings":{"fps":1e999}}`))],
    ["offer with fps 0", framed(json({ type: "offer", sdp: CHROMIUM_OFFER, settings: { fps: 0 } }))],
    ["offer with fps 121", framed(json({ type: "offer", sdp: CHROMIUM_OFFER, settings: { fps: 121 } }))],
    ["offer with fps 1.5", framed(json({ type: "offer", sdp: CHROMIUM_OFFER, settings: { fps: 1.5 } }))],
    ["offer with an odd width", framed(json({ type: "offer", sdp: CHROMIUM_OFFER, settings: { width: 641 } }))],
    ["offer with a radius that does not fit", framed(json({ type: "offer", sdp: CHROMIUM_OFFER, settings: { width: 64, height: 64, radius: 40 } }))],
    ["offer with a colour that is not #rrggbb", framed(json({ type: "offer", sdp: CHROMIUM_OFFER, settings: { ballColor: "red; x" } }))],
    ["offer with settings as an array", framed(json({ type: "offer", sdp: CHROMIUM_OFFER, settings: [30] }))],
    ["offer with huge unknown fields and bad fps", framed(json({ type: "offer", sdp: CHROMIUM_OFFER, junk: "j".repeat(20_000), settings: { fps: -1 } }))],
    ["control before the offer", framed(json({ type: "control", fps: 30 }))],
    ["control with fps as a string", framed(json({ type: "control", fps: "30" }))],
    ["control with speed past its limit", framed(json({ type: "control", speed: 1e12 }))],
  ];
  return cases.map(([label, bytes, fin]) => ({ label, bytes, fin: fin ?? false }));
}

const FIELD_VALUES: readonly unknown[] = [null, true, -1, 0, 1.5, 1e308, -1e308, "", "x".repeat(300), [], {}, [[[]]], { a: { b: {} } }];
const TYPES: readonly unknown[] = ["offer", "control", "Offer", "stop ", "", "answer", "session", "error", 0, null, [], {}];

/** A random invalid message: a wrong or misspelled type, or a known one with wrong field types, plus unknown fields. */
function randomCase(random: () => number, index: number): ControlCase {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const message: Record<string, unknown> = { type: pick(TYPES) };
  if (message.type === "offer") message.sdp = pick(FIELD_VALUES.filter((v) => typeof v !== "string"));
  if (message.type === "control") message[pick(["fps", "speed"])] = pick([-5, 0.5, 1e9, "1", null, [], {}]);
  for (let i = Math.floor(random() * 4); i > 0; i--) message[`f${Math.floor(random() * 1e6)}`] = pick(FIELD_VALUES);
  let bytes = json(message);
  if (random() < 0.2) {
    // Corrupt one byte in the middle: mostly invalid JSON or invalid UTF-8.
    bytes = bytes.slice();
    bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
  }
  return { label: `random #${index}: ${JSON.stringify(message).slice(0, 80)}`, bytes: framed(bytes), fin: false };
}

/** Whether the page could legitimately send `bytes` as its first control message (only `stop` can be). */
function isAcceptedFirst(bytes: Uint8Array): boolean {
  try {
    return new ControlMessageReader().push(bytes).some((value) => parseClientMessage(value).type === "stop");
  } catch {
    return false;
  }
}

/**
 * Every fixed case, then `randomCount` random invalid messages from `seed`. A random case that happens to be a
 * message the server accepts as a first message (a corruption could make one) is left out: every case returned
 * must be refused.
 */
export function controlFuzzCases(randomCount: number, seed = 0x5eed): ControlCase[] {
  const random = seededRandom(seed);
  const cases = fixedCases();
  for (let i = 0, added = 0; added < randomCount && i < 2 * randomCount; i++) {
    const next = randomCase(random, i);
    if (isAcceptedFirst(next.bytes)) continue;
    cases.push(next);
    added++;
  }
  return cases;
}

/**
 * Hostile datagrams from `seed`: random bytes of 0 to 1,500 bytes, coordinates of the wrong size, the wrong type
 * byte, and coordinates whose numbers are NaN, infinite or far out of range. None is a valid coordinates datagram.
 */
export function datagramFuzzCases(count: number, seed = 0xda7a): Uint8Array[] {
  const random = seededRandom(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 4) {
      case 0:
        out.push(Uint8Array.from({ length: Math.floor(random() * 1500) }, () => Math.floor(random() * 256)));
        break;
      case 1: {
        const length = pickOtherThan(random, COORDINATES_BYTES);
        out.push(Uint8Array.from({ length }, (_, j) => (j === 0 ? 1 : Math.floor(random() * 256))));
        break;
      }
      case 2: {
        const d = new Uint8Array(COORDINATES_BYTES);
        d[0] = 2 + Math.floor(random() * 254);
        out.push(d);
        break;
      }
      default: {
        const d = new Uint8Array(COORDINATES_BYTES);
        const v = new DataView(d.buffer);
        v.setUint8(0, 1);
        const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e30, -1e30][Math.floor(random() * 5)]!;
        const field = Math.floor(random() * 4);
        if (field === 0) v.setFloat32(8, bad, true);
        else if (field === 1) v.setFloat32(12, bad, true);
        else if (field === 2) v.setFloat64(16, bad < 0 ? bad : Number.NaN, true);
        else v.setFloat32(24, bad < 0 ? -1 : bad, true);
        out.push(d);
      }
    }
  }
  return out;
}

function pickOtherThan(random: () => number, excluded: number): number {
  const length = Math.floor(random() * 64);
  return length === excluded ? excluded + 1 : length;
}
