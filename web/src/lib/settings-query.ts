/**
 * Session settings from the page's URL query (`?fps=60&speed=400&ballColor=%2300ff00&scene=noise`, and the network
 * as link-spec texts: `?down=loss%3D5%25,delay%3D50ms&up=delay%3D50ms`).
 */
import { type Scene, type SessionSettings, parseSettings } from "@ballstream/protocol";
import { errorText } from "./failures.ts";

const NUMERIC = ["fps", "width", "height", "radius", "speed"] as const;
/** The settings given as text: colours and the scene. */
const TEXTS = ["ballColor", "backgroundColor", "scene"] as const;

/**
 * The settings named in `search` (other parameters are ignored), validated with the shared limits so that a bad
 * value fails here with the shared message instead of at the server. Throws ProtocolError on a bad value.
 */
export function settingsFromQuery(search: string): Partial<SessionSettings> {
  const params = new URLSearchParams(search);
  const out: Record<string, number | string> = {};
  for (const key of NUMERIC) {
    const raw = params.get(key);
    if (raw !== null && raw.trim() !== "") out[key] = Number(raw);
  }
  for (const key of TEXTS) {
    const raw = params.get(key);
    if (raw !== null && raw !== "") out[key] = raw;
  }
  const down = params.get("down");
  const up = params.get("up");
  const network = down === null && up === null ? undefined : { ...(down === null ? {} : { down }), ...(up === null ? {} : { up }) };
  const settings = parseSettings(network === undefined ? out : { ...out, network }); // throws on a bad value
  return { ...(out as Partial<SessionSettings>), ...(network === undefined ? {} : { network: settings.network }) };
}

/** The URL's settings for the page: all of them, or none and the warning to show when one is bad. */
export function pageQuery(search: string): { settings: Partial<SessionSettings>; warning: string | null } {
  try {
    return { settings: settingsFromQuery(search), warning: null };
  } catch (e) {
    return { settings: {}, warning: `Ignoring the URL's settings: ${errorText(e)}` };
  }
}

/** The page's address with `scene` set (the rest of the query kept): loading it starts a session on that scene. */
export function withScene(href: string, scene: Scene): string {
  const url = new URL(href);
  url.searchParams.set("scene", scene);
  return url.href;
}
