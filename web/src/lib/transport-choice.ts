/**
 * Which video path the page plays: WebRTC (the default), WebTransport (the encoded frames on WebTransport streams,
 * decoded with WebCodecs) or both side by side, from `?transport=`; and what a browser that cannot decode H.264
 * over WebRTC (Firefox without its OpenH264 plugin) gets instead.
 */

/** The page's video paths. */
export type TransportChoice = "webrtc" | "webtransport" | "both";

/** Every choice, in the selector's order. */
export const TRANSPORT_CHOICES: readonly TransportChoice[] = ["webrtc", "webtransport", "both"];

/** What the selector says for each choice. */
export const TRANSPORT_LABELS: Record<TransportChoice, string> = { webrtc: "WebRTC", webtransport: "WebTransport + WebCodecs", both: "both side by side" };

/** The choice in `search` (`?transport=`), whether it was given, and a warning for a value that is none. */
export function transportFromQuery(search: string): { choice: TransportChoice; explicit: boolean; warning: string | null } {
  const raw = new URLSearchParams(search).get("transport");
  if (raw === null || raw === "") return { choice: "webrtc", explicit: false, warning: null };
  if ((TRANSPORT_CHOICES as readonly string[]).includes(raw)) return { choice: raw as TransportChoice, explicit: true, warning: null };
  return { choice: "webrtc", explicit: false, warning: `Ignoring transport=${JSON.stringify(raw.slice(0, 40))}: use one of ${TRANSPORT_CHOICES.join(", ")}.` };
}

/** The page's address with `transport` set (the rest of the query kept): loading it starts a session on that path. */
export function withTransport(href: string, choice: TransportChoice): string {
  const url = new URL(href);
  url.searchParams.set("transport", choice);
  return url.href;
}

/** The message where WebRTC cannot decode H.264. */
export const NO_WEBRTC_H264 = "This browser cannot decode H.264 video over WebRTC";

/**
 * The paths to play. Where WebRTC has no H.264: a page that did not ask for WebRTC by name falls back to
 * WebTransport (and says so); `both` plays WebTransport beside the message; an explicit `webrtc` keeps WebRTC,
 * which then fails with the message (the page offers the switch).
 */
export function resolveTransport(choice: TransportChoice, explicit: boolean, webrtcH264: boolean): { webrtc: boolean; webtransport: boolean; notice: string | null } {
  if (webrtcH264 || (choice === "webrtc" && explicit)) return { webrtc: choice !== "webtransport", webtransport: choice !== "webrtc", notice: null };
  if (choice === "both") return { webrtc: false, webtransport: true, notice: `${NO_WEBRTC_H264}: only the WebTransport picture plays.` };
  return { webrtc: false, webtransport: true, notice: choice === "webrtc" ? `${NO_WEBRTC_H264}: playing the same H.264 over WebTransport (WebCodecs) instead.` : null };
}
