/** Readable messages for every way a session can fail or end. */
import { CLOSE_CODES } from "@ballstream/protocol";

const CLOSE_NAMES = new Map<number, string>(Object.entries(CLOSE_CODES).map(([name, code]) => [code, name]));

/** "Session closed by the server: <name> (code n): reason". */
export function describeClose(code: number | undefined, reason: string | undefined): string {
  const name = code === undefined ? undefined : CLOSE_NAMES.get(code);
  const what =
    code === CLOSE_CODES.normal ? "Session ended" : code === CLOSE_CODES.serverShutdown ? "The server shut down" : "Session closed by the server";
  const detail = code === undefined ? "no close code" : `${name ?? "unknown"} (code ${code})`;
  return `${what}: ${detail}${reason ? ` — ${reason}` : ""}`;
}

/** Why the page cannot run here, or null if it can. Takes the global object so it can be tested. */
export function missingBrowserFeature(g: Record<string, unknown>): string | null {
  if (typeof g.WebTransport !== "function") return "This browser has no WebTransport; use a current Chromium, Chrome or Edge.";
  if (typeof g.RTCPeerConnection !== "function") return "This browser has no WebRTC (RTCPeerConnection).";
  return null;
}

/** A message for a failed `fetch('/config.json')`. */
export function describeConfigFailure(error: unknown, status?: number): string {
  if (status !== undefined) return `The server answered /config.json with HTTP ${status}; is this a ballstream server?`;
  return `Cannot reach the server for /config.json (${errorText(error)}).`;
}

/** The message of anything thrown. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
