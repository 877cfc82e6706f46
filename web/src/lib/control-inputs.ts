/** The fps/speed input boxes follow the session's effective settings whenever the server announces new ones. */
import type { SessionSettings } from "@ballstream/shared/messages";

/** What the fps and speed boxes hold. */
export interface ControlInputs {
  readonly fps: number;
  readonly speed: number;
}

/**
 * The boxes' values after the view saw `settings`: the new fps and speed when `settings` is not the object
 * `shown` last time (the server sent a `session` or `settings` message, e.g. after `window.ballstream.control()`),
 * else `inputs` unchanged, so that what the viewer is typing is not overwritten by unrelated updates.
 */
export function inputsForSettings(shown: SessionSettings | null, settings: SessionSettings | null, inputs: ControlInputs): ControlInputs {
  if (!settings || settings === shown) return inputs;
  return { fps: settings.fps, speed: settings.speed };
}
