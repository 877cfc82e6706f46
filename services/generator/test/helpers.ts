/** Test helpers of the generator's tests. */
export { collectingLogger, waitFor } from "@ballstream/testing";

/** Coverage-weighted centroid of a plane: weight = (value − background) / (ball − background). */
export function centroid(plane: Uint8Array, width: number, height: number, bg: number, ball: number): { x: number; y: number; area: number } {
  let sx = 0;
  let sy = 0;
  let sum = 0;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const w = (plane[j * width + i]! - bg) / (ball - bg);
      if (w === 0) continue;
      sx += w * (i + 0.5);
      sy += w * (j + 0.5);
      sum += w;
    }
  }
  return { x: sx / sum, y: sy / sum, area: sum };
}
