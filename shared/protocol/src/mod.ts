/** The browser-safe protocol every part speaks: subjects, messages and their validators, the WebTransport protocol and its control pipe, codecs, link-condition texts, physics, RTP time. No Node or Bun imports; the page imports it as is. */
export { nowMs } from "./clock.ts";
export { PAGE_END, SERVER_END, ControlPipe } from "./control-pipe.ts";
export type { ByteStreamPair, PipeDirection } from "./control-pipe.ts";
export { MAX_ERROR_MESSAGE_CHARS, capText, ProtocolError } from "./errors.ts";
export type { ErrorCode } from "./errors.ts";
export { MAX_JSON_BYTES, encodeJson, decodeJson } from "./json-codec.ts";
export { SESSION_ID_BYTES, SESSION_ID_LENGTH, SESSION_ID_PATTERN, parseSessionId, MAX_SDP_LENGTH, NO_NETWORK, parseNetworkSettings, DEFAULT_SETTINGS, SETTINGS_LIMITS, SCENES, parseScene, parseSettings, parseSessionResume, parseStartSessionRequest, LIVE_SETTINGS, parseSessionUpdate, applyUpdate, parseSessionControl, parseMediaOfferRequest, parseMediaOfferAnswer, parseSessionEnded, parseSessionEvent, SESSION_TIMING } from "./messages.ts";
export type { NetworkSettings, Scene, SessionSettings, SessionResume, StartSessionRequest, LiveSetting, SessionUpdate, ControlMessage, SessionControl, MediaOfferRequest, MediaOfferAnswer, SessionEnded, SessionEvent, Reply } from "./messages.ts";
export { MAX_LINK_SPEC_CHARS, DEFAULT_QUEUE_MS, parseLinkConditions, gilbertFor, formatLinkConditions } from "./link-spec.ts";
export type { GilbertElliott, Blackout, LinkConditions } from "./link-spec.ts";
export { ballAt, withSpeed, distance } from "./physics.ts";
export type { BallState } from "./physics.ts";
export { RTP_VIDEO_CLOCK_HZ, rtpTimestampFromCaptureTime } from "./rtp-time.ts";
export { MAX_OFFER_LINES, MAX_OFFER_LINE_CHARS, checkOffer } from "./sdp-offer.ts";
export { QUEUE, subjects } from "./subjects.ts";
export { asObject, asString, asNumber, optionalNumber, describeInput } from "./validate.ts";
export { WT_PATH, MAX_CONTROL_MESSAGE_BYTES, MAX_SERVER_TEXT_CHARS, CLOSE_CODES, parseClientMessage, parseServerMessage, frameControlMessage, frameServerMessage, ControlMessageReader, COORDINATES_BYTES, ERROR_REPORT_BYTES, encodeCoordinates, decodeCoordinates, encodeErrorReport, decodeErrorReport } from "./wt-protocol.ts";
export type { ClientMessage, ServerMessage, Coordinates, ErrorReport, ClientConfig } from "./wt-protocol.ts";
