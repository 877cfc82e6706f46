import { expect, test } from "bun:test";
import { SESSION_ID_PATTERN } from "@ballstream/protocol";
import { channelSessionId } from "../src/channel-id.ts";

test("a channel's source id is a session id, the same for the same name, different for another", () => {
  expect(channelSessionId("lobby")).toMatch(SESSION_ID_PATTERN);
  expect(channelSessionId("lobby")).toBe(channelSessionId("lobby"));
  expect(channelSessionId("lobby")).not.toBe(channelSessionId("Lobby"));
});
