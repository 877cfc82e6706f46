/**
 * The fps/speed input boxes: they follow the session's effective settings when those genuinely change, but never
 * overwrite a box the viewer is editing, and what the viewer typed is checked before anything is sent.
 */
import { parseSessionUpdate, ProtocolError } from "@ballstream/protocol";
import { errorText } from "./failures.ts";

/**
 * One box: the text in it, the setting it last showed, and whether the viewer typed in it since then or since the
 * last Apply (Apply sends the text; the box then waits for the server's new settings to show them).
 */
export interface ControlBox {
  readonly text: string;
  readonly shown: number;
  readonly edited: boolean;
}

/** A box showing `value`, as the viewer has not touched it. */
export function controlBox(value: number): ControlBox {
  return { text: String(value), shown: value, edited: false };
}

/**
 * The box after the view saw the effective setting `value`: unchanged when `value` is what it last showed (so the
 * 10 Hz view refresh never undoes typing), when the viewer is in it (`focused`) or has typed in it since the last
 * Apply; else it shows `value`.
 */
export function followSetting(box: ControlBox, value: number, focused: boolean): ControlBox {
  if (value === box.shown || focused || box.edited) return box;
  return controlBox(value);
}

/** A box's text as a number; an empty box is not a number (Number("") would be 0). */
const asNumber = (text: string) => (text.trim() === "" ? Number.NaN : Number(text));

/**
 * The live change the boxes ask for, validated with the shared limits so that a bad value is refused on the page
 * (and nothing is sent) instead of ending the session at the server. Throws ProtocolError naming the box and the text.
 */
export function controlChange(fps: string, speed: string): { fps: number; speed: number } {
  const texts = { fps, speed };
  const change = { fps: asNumber(fps), speed: asNumber(speed) };
  for (const name of ["fps", "speed"] as const) {
    try {
      parseSessionUpdate({ [name]: change[name] });
    } catch (e) {
      throw new ProtocolError("bad_request", `Not applied: ${errorText(e)}; the ${name} box says "${texts[name]}".`);
    }
  }
  return change;
}
