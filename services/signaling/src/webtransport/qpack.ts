/**
 * QPACK field sections (RFC 9204) without a dynamic table: the server advertises capacity 0, so a peer may only use
 * the static table and literals (plain or Huffman-coded). Encoding uses static references and plain literals.
 */
import { concatBytes } from "./bytes.ts";
import { H3_ERROR, Http3Error } from "./errors.ts";
import { huffmanDecode } from "./huffman.ts";
import { STATIC_TABLE } from "./qpack-static-table.ts";

/** One field line: lower-case name and value. */
export type HeaderField = readonly [name: string, value: string];

/** RFC 9204 §4.5.1.1: each field counts its name and value lengths plus 32 bytes. */
const FIELD_OVERHEAD = 32;
const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** A prefixed integer (RFC 9204 §4.1.1) and the bytes it took. */
export interface PrefixedIntRead {
  readonly value: number;
  readonly bytes: number;
}

/** Reads an integer with an N-bit prefix at `offset`. Throws QPACK_DECOMPRESSION_FAILED when truncated or above 2^53. */
export function readPrefixedInt(data: Uint8Array, offset: number, prefixBits: number): PrefixedIntRead {
  const mask = (1 << prefixBits) - 1;
  const first = data[offset];
  if (first === undefined) throw decompressionFailed("truncated integer");
  let value = first & mask;
  if (value < mask) return { value, bytes: 1 };
  let shift = 0;
  for (let i = offset + 1; i < data.length; i++) {
    const byte = data[i] ?? 0;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!Number.isSafeInteger(value) || shift > 63) throw decompressionFailed("integer too large");
    if ((byte & 0x80) === 0) return { value, bytes: i - offset + 1 };
  }
  throw decompressionFailed("truncated integer");
}

/** Encodes an integer with an N-bit prefix; `flags` fills the bits above the prefix in the first byte. */
export function encodePrefixedInt(value: number, prefixBits: number, flags: number): Uint8Array {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) return Uint8Array.of(flags | value);
  const bytes = [flags | mask];
  let rest = value - mask;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

/**
 * Decodes an encoded field section. Throws {@link Http3Error}: QPACK_DECOMPRESSION_FAILED (connection) for a dynamic
 * table reference, a bad index, a truncated or malformed representation or bad Huffman; H3_EXCESSIVE_LOAD (stream)
 * when the section is larger than `maxSectionBytes`.
 */
export function decodeFieldSection(block: Uint8Array, maxSectionBytes: number): HeaderField[] {
  const requiredInsertCount = readPrefixedInt(block, 0, 8);
  if (requiredInsertCount.value !== 0) throw decompressionFailed("dynamic table reference (Required Insert Count > 0)");
  let offset = requiredInsertCount.bytes;
  offset += readPrefixedInt(block, offset, 7).bytes; // Delta Base: meaningless without a dynamic table
  const fields: HeaderField[] = [];
  let size = 0;
  while (offset < block.length) {
    const first = block[offset] ?? 0;
    let field: HeaderField;
    if (first & 0x80) {
      // Indexed field line: 1 T index(6)
      if ((first & 0x40) === 0) throw decompressionFailed("dynamic table reference");
      const index = readPrefixedInt(block, offset, 6);
      field = staticEntry(index.value);
      offset += index.bytes;
    } else if (first & 0x40) {
      // Literal field line with name reference: 0 1 N T index(4), value
      if ((first & 0x10) === 0) throw decompressionFailed("dynamic table name reference");
      const index = readPrefixedInt(block, offset, 4);
      offset += index.bytes;
      const value = readString(block, offset, 7, maxSectionBytes);
      offset += value.bytes;
      field = [staticEntry(index.value)[0], value.text];
    } else if (first & 0x20) {
      // Literal field line with literal name: 0 0 1 N H length(3) name, value
      const name = readString(block, offset, 3, maxSectionBytes);
      offset += name.bytes;
      const value = readString(block, offset, 7, maxSectionBytes);
      offset += value.bytes;
      field = [name.text, value.text];
    } else {
      throw decompressionFailed("post-base (dynamic table) representation");
    }
    size += field[0].length + field[1].length + FIELD_OVERHEAD;
    if (size > maxSectionBytes) throw new Http3Error(H3_ERROR.excessiveLoad, `field section exceeds ${maxSectionBytes} bytes`, "stream");
    fields.push(field);
  }
  return fields;
}

/** Encodes a field section: static-table references where possible, otherwise plain literals. */
export function encodeFieldSection(fields: readonly HeaderField[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0, 0)];
  for (const [name, value] of fields) {
    const exact = STATIC_TABLE.findIndex(([n, v]) => n === name && v === value);
    if (exact >= 0) {
      parts.push(encodePrefixedInt(exact, 6, 0xc0));
      continue;
    }
    const nameIndex = STATIC_TABLE.findIndex(([n]) => n === name);
    if (nameIndex >= 0) {
      parts.push(encodePrefixedInt(nameIndex, 4, 0x50), encodeString(value, 7, 0));
    } else {
      parts.push(encodeString(name, 3, 0x20), encodeString(value, 7, 0));
    }
  }
  return concatBytes(...parts);
}

function staticEntry(index: number): HeaderField {
  const entry = STATIC_TABLE[index];
  if (!entry) throw decompressionFailed(`static table index ${index} out of range`);
  return entry;
}

/** A string literal: H flag just above an N-bit length prefix, then the bytes. */
function readString(block: Uint8Array, offset: number, prefixBits: number, maxBytes: number): { text: string; bytes: number } {
  const huffman = ((block[offset] ?? 0) >> prefixBits) & 1;
  const length = readPrefixedInt(block, offset, prefixBits);
  if (length.value > maxBytes) throw new Http3Error(H3_ERROR.excessiveLoad, `field of ${length.value} bytes exceeds ${maxBytes}`, "stream");
  const start = offset + length.bytes;
  if (start + length.value > block.length) throw decompressionFailed("truncated string literal");
  const raw = block.subarray(start, start + length.value);
  return { text: utf8.decode(huffman ? huffmanDecode(raw) : raw), bytes: length.bytes + length.value };
}

function encodeString(text: string, prefixBits: number, flags: number): Uint8Array {
  const bytes = utf8Encoder.encode(text);
  return concatBytes(encodePrefixedInt(bytes.length, prefixBits, flags), bytes);
}

function decompressionFailed(message: string): Http3Error {
  return new Http3Error(H3_ERROR.qpackDecompressionFailed, `QPACK: ${message}`);
}
