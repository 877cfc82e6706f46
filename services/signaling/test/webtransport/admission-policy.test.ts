/** Admission as composable checks (pure): each check refuses with a status or passes; the first status wins. */
import { describe, expect, test } from "bun:test";
import { admission, allowOrigins, maxSessionsPerConnection, onPaths } from "../../src/webtransport/admission.ts";
import type { WebTransportRequest } from "../../src/webtransport/types.ts";

const request = (overrides: Partial<WebTransportRequest> = {}): WebTransportRequest => ({
  path: "/wt",
  origin: "http://127.0.0.1",
  authority: "127.0.0.1",
  headers: [],
  remoteAddress: "127.0.0.1:5000",
  connectionSessions: 0,
  ...overrides,
});

describe("admission", () => {
  test("allowOrigins: exact origins, or any with *", () => {
    expect(allowOrigins(["http://127.0.0.1"])(request())).toBeUndefined();
    expect(allowOrigins(["http://127.0.0.1"])(request({ origin: "https://evil.example" }))).toBe(403);
    expect(allowOrigins(["http://127.0.0.1"])(request({ origin: "" }))).toBe(403);
    expect(allowOrigins(["*"])(request({ origin: "https://evil.example" }))).toBeUndefined();
  });

  test("onPaths: the path without its query", () => {
    expect(onPaths(["/wt"])(request({ path: "/wt?session=1" }))).toBeUndefined();
    expect(onPaths(["/wt"])(request({ path: "/other" }))).toBe(404);
    expect(onPaths(["/wt"])(request({ path: "/wt/" }))).toBe(404);
  });

  test("maxSessionsPerConnection: 429 once the connection holds max sessions", () => {
    expect(maxSessionsPerConnection(2)(request({ connectionSessions: 1 }))).toBeUndefined();
    expect(maxSessionsPerConnection(2)(request({ connectionSessions: 2 }))).toBe(429);
  });

  test("admission(): checks in order, the first refusal wins, none accepts; no checks accepts everything", () => {
    const policy = admission(allowOrigins(["http://127.0.0.1"]), onPaths(["/wt"]));
    expect(policy(request())).toBe("accept");
    expect(policy(request({ origin: "x", path: "/other" }))).toBe(403);
    expect(policy(request({ path: "/other" }))).toBe(404);
    expect(admission()(request({ origin: "x" }))).toBe("accept");
  });
});
