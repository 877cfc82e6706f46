/** The public surface of `@ballstream/shared` for services (the page imports the browser-safe modules directly). */
export * from "./bus/bus.ts";
export * from "./bus/memory-bus.ts";
export * from "./bus/rpc.ts";
export * from "./clock.ts";
export * from "./config.ts";
export * from "./errors.ts";
export * from "./frame-codec.ts";
export * from "./json-codec.ts";
export * from "./lifecycle.ts";
export * from "./log.ts";
export * from "./messages.ts";
export * from "./physics.ts";
export * from "./rtp-time.ts";
export * from "./subjects.ts";
export * from "./validate.ts";
export * from "./wt-protocol.ts";
