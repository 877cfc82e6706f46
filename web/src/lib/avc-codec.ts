/** The WebCodecs codec string of an H.264 stream, read from the SPS of its keyframes (Annex B). */

/** `avc1.PPCCLL` (profile_idc, constraint flags, level_idc in hex) from the first SPS in `annexB`, or null. */
export function avcCodecString(annexB: Uint8Array): string | null {
  for (let i = 0; i + 6 < annexB.length; i++) {
    if (annexB[i] !== 0 || annexB[i + 1] !== 0 || annexB[i + 2] !== 1) continue;
    if ((annexB[i + 3]! & 0x1f) !== 7) continue;
    const hex = (b: number) => b.toString(16).padStart(2, "0");
    return `avc1.${hex(annexB[i + 4]!)}${hex(annexB[i + 5]!)}${hex(annexB[i + 6]!)}`;
  }
  return null;
}
