/**
 * Decoding of the HPACK/QPACK Huffman code (RFC 7541 Appendix B). The code is canonical, so the table is just the
 * code length of each symbol 0..256 (256 = EOS); codes are rebuilt from the lengths at load.
 */
import { H3_ERROR, Http3Error } from "./errors.ts";

// prettier-ignore
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];
const EOS = 256;
const MAX_LENGTH = 30;

/** Per code length: the first canonical code, the index of its first symbol in `SYMBOLS`, and the count. */
const FIRST_CODE = new Array<number>(MAX_LENGTH + 1).fill(0);
const FIRST_INDEX = new Array<number>(MAX_LENGTH + 1).fill(0);
const COUNT = new Array<number>(MAX_LENGTH + 1).fill(0);
const SYMBOLS = [...CODE_LENGTHS.keys()].sort((a, b) => (CODE_LENGTHS[a] ?? 0) - (CODE_LENGTHS[b] ?? 0) || a - b);
/** The canonical code of each symbol (used by tests and by {@link huffmanEncode}). */
const CODES = new Array<number>(CODE_LENGTHS.length).fill(0);
{
  let code = 0;
  let length = CODE_LENGTHS[SYMBOLS[0] ?? 0] ?? 0;
  for (const [index, symbol] of SYMBOLS.entries()) {
    const symbolLength = CODE_LENGTHS[symbol] ?? 0;
    if (index > 0) code = (code + 1) * 2 ** (symbolLength - length);
    length = symbolLength;
    if (COUNT[length] === 0) {
      FIRST_CODE[length] = code;
      FIRST_INDEX[length] = index;
    }
    COUNT[length] = (COUNT[length] ?? 0) + 1;
    CODES[symbol] = code;
  }
}

/**
 * Decodes Huffman-coded bytes. Throws {@link Http3Error} QPACK_DECOMPRESSION_FAILED on an EOS symbol, padding
 * longer than 7 bits or padding that is not all ones.
 */
export function huffmanDecode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil((data.length * 8) / 5));
  let written = 0;
  let code = 0;
  let length = 0;
  for (const byte of data) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      length++;
      const offset = code - (FIRST_CODE[length] ?? 0);
      if ((COUNT[length] ?? 0) > 0 && offset >= 0 && offset < (COUNT[length] ?? 0)) {
        const symbol = SYMBOLS[(FIRST_INDEX[length] ?? 0) + offset] ?? EOS;
        if (symbol === EOS) throw new Http3Error(H3_ERROR.qpackDecompressionFailed, "Huffman string contains EOS");
        out[written++] = symbol;
        code = 0;
        length = 0;
      } else if (length >= MAX_LENGTH) {
        throw new Http3Error(H3_ERROR.qpackDecompressionFailed, "invalid Huffman code");
      }
    }
  }
  if (length > 7 || code !== 2 ** length - 1) throw new Http3Error(H3_ERROR.qpackDecompressionFailed, "invalid Huffman padding");
  return out.slice(0, written);
}

/** Huffman-encodes bytes (the server sends literals plain; this exists for tests and clients). */
export function huffmanEncode(data: Uint8Array): Uint8Array {
  const bits: number[] = [];
  for (const byte of data) {
    const length = CODE_LENGTHS[byte] ?? 0;
    const code = CODES[byte] ?? 0;
    for (let bit = length - 1; bit >= 0; bit--) bits.push(Math.floor(code / 2 ** bit) & 1);
  }
  while (bits.length % 8 !== 0) bits.push(1);
  const out = new Uint8Array(bits.length / 8);
  for (let i = 0; i < bits.length; i++) out[i >> 3] = (out[i >> 3] ?? 0) | ((bits[i] ?? 0) << (7 - (i & 7)));
  return out;
}
