/**
 * Bounded fuzzing of every parser that reads peer bytes: random and mutated inputs (seeded, reproducible) must
 * either parse or fail with a typed Http3Error, never anything else.
 */
import { expect, test } from "bun:test";
import { seededRandom } from "@ballstream/testing";
import { CAPSULE_TYPE, decodeCloseSession, encodeCloseSession, readCapsule } from "../../src/webtransport/capsule.ts";
import { Http3Error } from "../../src/webtransport/errors.ts";
import { FRAME_TYPE, encodeFrame, readFrame } from "../../src/webtransport/frames.ts";
import { huffmanDecode, huffmanEncode } from "../../src/webtransport/huffman.ts";
import { decodeFieldSection, encodeFieldSection } from "../../src/webtransport/qpack.ts";
import { decodeSettings, encodeSettings, serverSettings } from "../../src/webtransport/settings.ts";
import { readVarint } from "../../src/webtransport/varint.ts";

const SEEDS = [
  encodeFrame(FRAME_TYPE.headers, encodeFieldSection([[":method", "CONNECT"], [":protocol", "webtransport"], ["origin", "http://x"]])),
  encodeFrame(FRAME_TYPE.settings, encodeSettings(serverSettings(65536))),
  encodeFrame(FRAME_TYPE.data, encodeCloseSession({ closeCode: 7, reason: "bye" })),
  encodeCloseSession({ closeCode: 1, reason: "x".repeat(40) }),
  Uint8Array.from([0x00, 0x00, 0xd1, 0x51, 0x83, ...huffmanEncode(new TextEncoder().encode("/wt"))]),
];

function mutate(input: Uint8Array, random: () => number): Uint8Array {
  const out = Array.from(input);
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (out.length + 1));
    switch (Math.floor(random() * 4)) {
      case 0:
        out[at] = Math.floor(random() * 256);
        break;
      case 1:
        out.splice(at, 1);
        break;
      case 2:
        out.splice(at, 0, Math.floor(random() * 256));
        break;
      default:
        out.length = Math.min(out.length, at);
    }
  }
  return Uint8Array.from(out);
}

function parseAll(input: Uint8Array): void {
  const attempts: (() => unknown)[] = [
    () => readVarint(input, 0),
    () => readFrame(input, 0, 4096),
    () => decodeSettings(input),
    () => decodeFieldSection(input, 4096),
    () => huffmanDecode(input),
    () => readCapsule(input, 0, 4096),
    () => decodeCloseSession(input),
    () => {
      // the frame → field section / capsule path the connection takes
      const frame = readFrame(input, 0, 4096);
      if (frame?.frame.type === FRAME_TYPE.headers) decodeFieldSection(frame.frame.payload, 4096);
      if (frame?.frame.type === FRAME_TYPE.data) {
        const capsule = readCapsule(frame.frame.payload, 0, 4096);
        if (capsule?.capsule.type === CAPSULE_TYPE.closeSession) decodeCloseSession(capsule.capsule.value);
      }
    },
  ];
  for (const attempt of attempts) {
    try {
      attempt();
    } catch (error) {
      if (!(error instanceof Http3Error)) throw new Error(`untyped failure on [${Array.from(input)}]: ${error}`);
    }
  }
}

test("12,000 random and mutated inputs into the frame, SETTINGS, QPACK, Huffman and capsule parsers", () => {
  const random = seededRandom(0x5eed);
  let inputs = 0;
  for (let i = 0; i < 6000; i++) {
    parseAll(Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
    inputs++;
  }
  for (let i = 0; i < 6000; i++) {
    parseAll(mutate(SEEDS[i % SEEDS.length]!, random));
    inputs++;
  }
  expect(inputs).toBe(12_000);
});
