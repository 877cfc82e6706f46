import { describe, expect, test } from "bun:test";
import { DEFAULT_SIGNALING_CONFIG, localOrigins, signalingConfigFromEnv } from "../src/config.ts";

describe("signalingConfigFromEnv", () => {
  test("defaults for an empty environment", () => {
    expect(signalingConfigFromEnv({})).toEqual({ ...DEFAULT_SIGNALING_CONFIG, metrics: { host: "127.0.0.1", port: 9466, token: undefined } });
    expect(DEFAULT_SIGNALING_CONFIG.metrics).toBeUndefined();
    expect(DEFAULT_SIGNALING_CONFIG.httpPort).toBe(8080);
    expect(DEFAULT_SIGNALING_CONFIG.wtPort).toBe(4433);
  });

  test("reads every variable", () => {
    const c = signalingConfigFromEnv({
      HTTP_HOST: "0.0.0.0",
      HTTP_PORT: "9000",
      TLS_CERT: "/c.pem",
      TLS_KEY: "/k.pem",
      WT_CERTIFICATE: "own",
      WT_CERT_VALIDITY_S: "600",
      WT_PORT: "5000",
      ALLOWED_ORIGINS: "https://a.example, https://b.example",
      WEB_DIST: "/srv/web",
      REQUEST_TIMEOUT_MS: "1500",
      OFFER_TIMEOUT_MS: "3000",
      MAX_SESSIONS: "4",
      MAX_SESSIONS_PER_IP: "2",
      SESSION_RATE_PER_S: "7",
      SESSION_RATE_PER_IP_PER_S: "3",
      CONTROL_RATE_PER_S: "5",
      DATAGRAM_RATE_PER_S: "100",
      WT_IDLE_TIMEOUT_MS: "4000",
      WT_MAX_CONNECTIONS: "50",
      WT_MAX_CONNECTIONS_PER_IP: "5",
      WT_HANDSHAKE_TIMEOUT_MS: "2500",
      WT_RETRY: "0",
      TRUTH_TIMEOUT_MS: "2000",
      GENERATOR_TAKEOVER_MS: "0",
      MEDIA_TAKEOVER_MS: "750",
      SESSION_RESUME_SECRET: "sixteen bytes at least",
      VIDEO_TIMEOUT_MS: "6000",
      WT_VIDEO_FRAMING: "frame",
      WT_VIDEO_MAX_QUEUED_BYTES: "65536",
      WT_VIDEO_MAX_QUEUED_MS: "400",
      METRICS_PORT: "9100",
      METRICS_TOKEN: "scrape-me",
      SIGNALING_NET_EGRESS: "loss=2%,delay=20ms",
      NET_INGRESS: "loss=1%",
    });
    expect(c).toEqual({
      httpHost: "0.0.0.0",
      httpPort: 9000,
      tls: { certFile: "/c.pem", keyFile: "/k.pem" },
      wtCertificate: "own",
      wtCertValidityMs: 600_000,
      wtHost: "0.0.0.0",
      wtPort: 5000,
      allowedOrigins: ["https://a.example", "https://b.example"],
      webDist: "/srv/web",
      requestTimeoutMs: 1500,
      offerTimeoutMs: 3000,
      maxSessions: 4,
      maxSessionsPerIp: 2,
      sessionRatePerS: 7,
      sessionRatePerIpPerS: 3,
      controlRatePerS: 5,
      datagramRatePerS: 100,
      wtIdleTimeoutMs: 4000,
      wtMaxConnections: 50,
      wtMaxConnectionsPerIp: 5,
      wtHandshakeTimeoutMs: 2500,
      wtRetry: false,
      truthTimeoutMs: 2000,
      generatorTakeoverMs: 0,
      mediaTakeoverMs: 750,
      resumeSecret: "sixteen bytes at least",
      videoTimeoutMs: 6000,
      metrics: { host: "0.0.0.0", port: 9100, token: "scrape-me" },
      wtVideo: { framing: "frame", maxQueuedBytes: 65536, maxQueuedMs: 400 },
      net: { egress: { loss: 0.02, delayMs: 20 }, ingress: { loss: 0.01 } },
    });
    expect(signalingConfigFromEnv({ HTTP_HOST: "0.0.0.0", WT_HOST: "::" }).wtHost).toBe("::");
    // Connections per address follow the session cap unless set: two per session, at least 8.
    expect(signalingConfigFromEnv({ MAX_SESSIONS_PER_IP: "40" }).wtMaxConnectionsPerIp).toBe(120);
    expect(signalingConfigFromEnv({ MAX_SESSIONS_PER_IP: "1" }).wtMaxConnectionsPerIp).toBe(8);
    expect(signalingConfigFromEnv({}).wtRetry).toBe(true);
    expect([signalingConfigFromEnv({}).wtCertificate, signalingConfigFromEnv({}).wtCertValidityMs]).toEqual(["auto", 14 * 86_400_000 - 120_000]);
  });

  test("bad values name their variable", () => {
    expect(() => signalingConfigFromEnv({ HTTP_PORT: "http" })).toThrow("HTTP_PORT");
    expect(() => signalingConfigFromEnv({ WT_PORT: "70000" })).toThrow("WT_PORT");
    expect(() => signalingConfigFromEnv({ TLS_CERT: "/c.pem" })).toThrow("TLS_KEY");
    expect(() => signalingConfigFromEnv({ MAX_SESSIONS_PER_IP: "0" })).toThrow("MAX_SESSIONS_PER_IP");
    expect(() => signalingConfigFromEnv({ DATAGRAM_RATE_PER_S: "-1" })).toThrow("DATAGRAM_RATE_PER_S");
    expect(() => signalingConfigFromEnv({ SESSION_RATE_PER_S: "0" })).toThrow("SESSION_RATE_PER_S");
    expect(() => signalingConfigFromEnv({ SESSION_RATE_PER_IP_PER_S: "1.5" })).toThrow("SESSION_RATE_PER_IP_PER_S");
    expect(() => signalingConfigFromEnv({ WT_RETRY: "yes" })).toThrow("WT_RETRY");
    expect(() => signalingConfigFromEnv({ WT_CERTIFICATE: "ca" })).toThrow("WT_CERTIFICATE");
    expect(() => signalingConfigFromEnv({ WT_CERT_VALIDITY_S: "1209600" })).toThrow("WT_CERT_VALIDITY_S"); // 14 days: over the limit
    expect(() => signalingConfigFromEnv({ WT_CERT_VALIDITY_S: "5" })).toThrow("WT_CERT_VALIDITY_S");
    expect(() => signalingConfigFromEnv({ WT_VIDEO_FRAMING: "slice" })).toThrow("WT_VIDEO_FRAMING");
    expect(() => signalingConfigFromEnv({ WT_VIDEO_MAX_QUEUED_BYTES: "10" })).toThrow("WT_VIDEO_MAX_QUEUED_BYTES");
    expect(() => signalingConfigFromEnv({ WT_VIDEO_MAX_QUEUED_MS: "0" })).toThrow("WT_VIDEO_MAX_QUEUED_MS");
    expect(() => signalingConfigFromEnv({ SIGNALING_NET_INGRESS: "loss" })).toThrow("SIGNALING_NET_INGRESS");
    expect(() => signalingConfigFromEnv({ WT_HANDSHAKE_TIMEOUT_MS: "10" })).toThrow("WT_HANDSHAKE_TIMEOUT_MS");
  });
});

describe("localOrigins", () => {
  test("localhost, IPv4 and IPv6 loopback at the port", () => {
    expect(localOrigins("http", 8080)).toEqual(["http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080"]);
  });
});
