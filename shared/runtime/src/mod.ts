/** What services run on: the buses (in-process and NATS) and request/reply, the logger, lifecycle and the standalone entry, metrics helpers, environment readers, and the frame codec of the bus (compression through Bun and node:zlib). */
export { intEnv, stringEnv, listEnv } from "./config.ts";
export { FRAME_COMPRESSIONS, MAX_SESSION_ID_LENGTH, MAX_DIMENSION, MIN_FRAME_MESSAGE_BYTES, i420ByteLength, encodedFrameByteLength, encodeTruth, encodeFrame, decodeTruth, decodeFrame, splitFrame, FrameAssembler, ballStateOf } from "./frame-codec.ts";
export type { FrameTruth, PixelFormat, FrameCompression, Frame } from "./frame-codec.ts";
export { onShutdownSignal, guardProcess, inBackground } from "./lifecycle.ts";
export { LOG_LEVELS, REDACTED, REDACTED_PATHS, MAX_LOG_STRING, capString, capLogStrings, capLogLine, parseLogLevel, createLogger } from "./log.ts";
export type { Logger, LoggerOptions } from "./log.ts";
export { defaultRegistry, createRegistry, METRIC_PREFIX, DEFAULT_METRICS_PORTS, steppedBuckets, LATENCY_BUCKETS_S, ERROR_BUCKETS_PX, ENCODE_BUCKETS_S, once, counter, gauge, histogram, collectProcessMetrics, metricsResponse, metricsEndpointFromEnv, hasBearerToken, serveMetrics } from "./metrics.ts";
export type { MetricsEndpoint, ServeMetricsOptions, MetricsServer, Counter, Gauge, Histogram, Registry } from "./metrics.ts";
export { LogThrottle } from "./log-throttle.ts";
export { publishSessionEvent } from "./session-events.ts";
export { runStandalone } from "./standalone.ts";
export type { StoppableService, StandalonePlan } from "./standalone.ts";
export { BusError, checkSubject, subjectMatches } from "./bus/bus.ts";
export type { BusMessage, SubscribeOptions, BusSubscription, RequestOptions, Bus, BusErrorCode } from "./bus/bus.ts";
export { MEMORY_BUS_MAX_PAYLOAD, MemoryBus } from "./bus/memory-bus.ts";
export { natsAuthFromEnv, toBusError, reconnectDelayMs, connectNatsBus } from "./bus/nats-bus.ts";
export type { NatsBusOptions, NatsAuth } from "./bus/nats-bus.ts";
export { requestJson, serveJson } from "./bus/rpc.ts";
