import { describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { join } from "node:path";
import { LOG_LEVELS, MAX_LOG_STRING, REDACTED, REDACTED_PATHS, capLogLine, capLogStrings, capString, createLogger, parseLogLevel } from "../src/log.ts";

const SECRETS = ["-----BEGIN PRIVATE KEY-----SECRET1", "SECRET2", "hunter2", "Bearer SECRET3", "ice-pwd:SECRET4"];

/** Raw lines a logger writes, as text (not parsed: the test is that they parse). */
function captured(level = "debug") {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      raw.push(...String(chunk).split("\n").filter((l) => l.length > 0));
      done();
    },
  });
  return { log: createLogger("signaling", { level, destination }), raw };
}

/** Checks one line is a JSON object with the fields every log line must have; returns it parsed. */
function checkLine(line: string, service: string): Record<string, unknown> {
  const o = JSON.parse(line) as Record<string, unknown>;
  expect(typeof o).toBe("object");
  expect(LOG_LEVELS).toContain(o.level as (typeof LOG_LEVELS)[number]);
  expect(typeof o.time).toBe("string");
  expect(new Date(o.time as string).toISOString()).toBe(o.time as string);
  expect(o.service).toBe(service);
  expect(typeof o.msg).toBe("string");
  return o;
}

/** Logs the way a service does: startup, a session's lifecycle with a failure, secrets in fields. */
function logLikeAService(log: ReturnType<typeof createLogger>): void {
  log.info({ httpPort: 8080, wtPort: 4433 }, "listening");
  const session = log.child({ sessionId: "Zm9vYmFyYmF6cXV4MTIzNA" });
  session.debug({ settings: { fps: 30 } }, "session started");
  session.info({ keyPem: SECRETS[0], tls: { key: SECRETS[1] } }, "certificate loaded");
  session.warn({ password: SECRETS[2], request: { headers: { authorization: SECRETS[3] } } }, "credentials present");
  session.debug({ offer: { sdp: `v=0\r\na=${SECRETS[4]}` } }, "offer received");
  session.error({ err: new Error("encoder exited with code 1") }, "session failed");
  session.info("session ended");
  log.trace("not at debug level");
}

describe("createLogger", () => {
  test("every line of a service-like usage is valid JSON with level, time, service and msg", () => {
    const { log, raw } = captured();
    logLikeAService(log);
    expect(raw.length).toBe(7);
    const lines = raw.map((l) => checkLine(l, "signaling"));
    expect(lines.map((l) => l.level)).toEqual(["info", "debug", "info", "warn", "debug", "error", "info"]);
    expect(lines[0]?.sessionId).toBeUndefined();
    for (const l of lines.slice(1)) expect(l.sessionId).toBe("Zm9vYmFyYmF6cXV4MTIzNA");
    const err = lines[5]?.err as Record<string, unknown>;
    expect(err.message).toBe("encoder exited with code 1");
    expect(typeof err.stack).toBe("string");
  });

  test("secrets never reach the output; redacted fields say so", () => {
    const { log, raw } = captured();
    logLikeAService(log);
    const text = raw.join("\n");
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    const cert = JSON.parse(raw[2] as string);
    expect(cert.keyPem).toBe(REDACTED);
    expect(cert.tls.key).toBe(REDACTED);
    const creds = JSON.parse(raw[3] as string);
    expect(creds.request.headers.authorization).toBe(REDACTED);
  });

  test("the level filters lines", () => {
    const { log, raw } = captured("warn");
    logLikeAService(log);
    expect(raw.map((l) => JSON.parse(l).level)).toEqual(["warn", "error"]);
    const silent = captured("silent");
    logLikeAService(silent.log);
    expect(silent.raw).toEqual([]);
  });

  test("an unknown level is a clear error", () => {
    expect(() => createLogger("x", { level: "loud" })).toThrow(/LOG_LEVEL=loud/);
  });

  test("the redacted paths cover keys at the top level, one level down and in headers", () => {
    for (const p of ["keyPem", "*.keyPem", "*.key", "*.headers.authorization", "sdp", "password"]) expect(REDACTED_PATHS).toContain(p);
  });
});

describe("parseLogLevel", () => {
  test("accepts every level, case- and space-insensitively", () => {
    for (const l of LOG_LEVELS) expect(parseLogLevel(l)).toBe(l);
    expect(parseLogLevel(" DEBUG ")).toBe("debug");
  });

  test("rejects anything else, naming LOG_LEVEL and the choices", () => {
    expect(() => parseLogLevel("verbose")).toThrow("LOG_LEVEL=verbose: expected one of fatal, error, warn, info, debug, trace, silent");
    expect(() => parseLogLevel("")).toThrow(/LOG_LEVEL/);
  });
});

describe("string caps", () => {
  const long = "x".repeat(64 * 1024);

  test("capString cuts long strings with a marker and leaves short ones alone", () => {
    expect(capString("short")).toBe("short");
    expect(capString("a".repeat(MAX_LOG_STRING))).toBe("a".repeat(MAX_LOG_STRING));
    expect(capString("abcdef", 3)).toBe("abc…[3 more chars]");
  });

  test("capLogStrings caps strings in objects and arrays, a stack to 4× the cap, and passes other values through", () => {
    const capped = capLogStrings({ a: long, nested: { list: [long, 1] }, n: 5, err: { message: long, stack: long } }, 10) as Record<string, any>;
    expect(capped.a).toBe(`${"x".repeat(10)}…[${long.length - 10} more chars]`);
    expect(capped.nested.list[0]).toBe(capped.a);
    expect(capped.nested.list[1]).toBe(1);
    expect(capped.n).toBe(5);
    expect(capped.err.message).toBe(capped.a);
    expect(capped.err.stack).toBe(`${"x".repeat(40)}…[${long.length - 40} more chars]`);
  });

  test("capLogLine rewrites only lines that can hold a long string", () => {
    const short = `{"msg":"${"y".repeat(20)}"}\n`;
    expect(capLogLine(short, 30)).toBe(short);
    expect(JSON.parse(capLogLine(`{"msg":"${"y".repeat(100)}","n":1}\n`, 30))).toEqual({ msg: `${"y".repeat(30)}…[70 more chars]`, n: 1 });
  });

  test("a 64 KiB client string stays under the cap in every field of a real log line, redaction still applies", () => {
    const { log, raw } = captured();
    log.child({ remote: long }).warn({ origin: long, headers: { "user-agent": long }, password: long, err: new Error(`bad offer ${long}`) }, `viewer sent ${long}`);
    expect(raw.length).toBe(1);
    const line = raw[0] as string;
    expect(line.length).toBeLessThan(12 * MAX_LOG_STRING);
    const o = JSON.parse(line);
    for (const v of [o.remote, o.origin, o.headers["user-agent"], o.msg, o.err.message]) {
      expect(v.length).toBeLessThanOrEqual(MAX_LOG_STRING + 30);
      expect(v).toContain("more chars]");
    }
    expect(o.password).toBe(REDACTED);
  });
});

describe("a real process logging to stdout", () => {
  const fixture = join(import.meta.dir, "fixtures", "log-service.ts");

  /** Runs the fixture until it is ready, stops it with SIGTERM, and returns its stdout and exit code. */
  async function run(env: Record<string, string>): Promise<{ stdout: string; exitCode: number }> {
    const proc = Bun.spawn(["bun", fixture], { env: { ...process.env, LOG_FORMAT: "", ...env }, stdout: "pipe", stderr: "pipe" });
    const reader = proc.stderr.getReader();
    let stderr = "";
    while (!stderr.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += new TextDecoder().decode(value);
    }
    proc.kill("SIGTERM");
    const [stdout, exitCode] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    await reader.cancel();
    return { stdout, exitCode };
  }

  test("piped stdout gets JSON lines only, honouring LOG_LEVEL, through a graceful shutdown", async () => {
    const { stdout, exitCode } = await run({ LOG_LEVEL: "debug" });
    expect(exitCode).toBe(0);
    const lines = stdout.split("\n").filter((l) => l.length > 0).map((l) => checkLine(l, "fixture"));
    expect(lines.map((l) => l.msg)).toEqual([
      "listening",
      "session started",
      "loaded certificate",
      "session failed",
      "shutting down",
      "session closed",
      "stopped",
    ]);
    for (const secret of SECRETS) expect(stdout).not.toContain(secret);
    const info = await run({ LOG_LEVEL: "info" });
    expect(info.stdout).not.toContain("session started");
  });

  test("LOG_FORMAT=pretty prints human-readable lines", async () => {
    const { stdout, exitCode } = await run({ LOG_LEVEL: "info", LOG_FORMAT: "pretty" });
    expect(exitCode).toBe(0);
    expect(stdout).toContain("INFO");
    expect(stdout).toContain("listening");
    expect(() => JSON.parse(stdout.split("\n")[0] as string)).toThrow();
    expect(stdout).not.toContain("SECRET1");
  });

  test("a bad LOG_LEVEL makes the process fail with a message naming it", async () => {
    const proc = Bun.spawn(["bun", fixture], { env: { ...process.env, LOG_LEVEL: "chatty" }, stdout: "pipe", stderr: "pipe" });
    const [stderr, exitCode] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(exitCode).not.toBe(0);
    expect(stderr).toContain("LOG_LEVEL=chatty");
  });
});
