/** The browser-safe protocol every part speaks: subjects, messages and their validators, the WebTransport protocol and its control pipe, codecs, physics, RTP time. No Node or Bun imports; the page imports it as is. */
export { nowMs } from "./clock.ts";
export { PAGE_END, SERVER_END, ControlPipe } from "./control-pipe.ts";
export type { ByteStreamPair, PipeDirection } from "./control-pipe.ts";
export { MAX_ERROR_MESSAGE_CHARS, capText, ProtocolError } from "./errors.ts";
export type { ErrorCode } from "./errors.ts";
export { MAX_JSON_BYTES, encodeJson, decodeJson } from "./json-codec.ts";
export { SESSION_ID_BYTES, SESSION_ID_LENGTH, SESSION_ID_PATTERN, parseSessionId, MAX_SDP_LENGTH, DEFAULT_SETTINGS, SETTINGS_LIMITS, SCENES, parseScene, parseSettings, parseStartSessionRequest, LIVE_SETTINGS, parseSessionUpdate, applyUpdate, parseSessionControl, parseMediaOfferRequest, parseMediaOfferAnswer, parseSessionEnded, parseSessionEvent, parseVideoWanted, SESSION_TIMING } from "./messages.ts";
export type { Scene, SessionSettings, StartSessionRequest, LiveSetting, SessionUpdate, ControlMessage, SessionControl, MediaOfferRequest, MediaOfferAnswer, SessionEnded, SessionEvent, VideoWanted, Reply } from "./messages.ts";
export { ballAt, withSpeed, distance } from "./physics.ts";
export type { BallState } from "./physics.ts";
export { RTP_VIDEO_CLOCK_HZ, rtpTimestampFromCaptureTime } from "./rtp-time.ts";
export { MAX_OFFER_LINES, MAX_OFFER_LINE_CHARS, checkOffer } from "./sdp-offer.ts";
export { QUEUE, subjects } from "./subjects.ts";
export { asObject, asString, asNumber, optionalNumber, describeInput } from "./validate.ts";
export { WT_PATH, MAX_CONTROL_MESSAGE_BYTES, MAX_SERVER_TEXT_CHARS, CLOSE_CODES, parseClientMessage, parseServerMessage, frameControlMessage, frameServerMessage, ControlMessageReader, COORDINATES_BYTES, ERROR_REPORT_BYTES, encodeCoordinates, decodeCoordinates, encodeErrorReport, decodeErrorReport } from "./wt-protocol.ts";
export type { ClientMessage, ServerMessage, Coordinates, ErrorReport, ClientConfig, VideoPath } from "./wt-protocol.ts";
export { VIDEO_UNIT_HEADER_BYTES, MAX_VIDEO_UNIT_BYTES, encodeVideoUnit, decodeVideoUnit, frameVideoRecord, VideoStreamReader } from "./video-unit.ts";
export type { VideoUnit } from "./video-unit.ts";
