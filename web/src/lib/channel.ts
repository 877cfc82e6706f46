/**
 * Broadcast channels on the page (issue 19): `?channel=NAME` (and `&owner=TOKEN`) from the address, the links a
 * channel's owner shares, what the page says of the channel it watches, and which live settings this viewer may
 * change. A channel's fps and speed are its owner's: the server ends the session of a viewer who sends a change of
 * them without owning the channel, so the page never sends one (the network setting stays each viewer's own).
 */
import { type ChannelInfo, type ChannelJoin, type NetworkSettings, type SessionUpdate, parseChannelName, parseClientMessage } from "@ballstream/protocol";
import { errorText } from "./failures.ts";

/** What a channel name may be, in words (the shared CHANNEL_NAME_PATTERN). */
export const CHANNEL_NAME_RULE = "1–32 letters, digits, “-” or “_”";

/** The channel a page joins: its name and, for its owner, the owner token. */
export interface ChannelRequest {
  readonly channel: string;
  readonly ownerToken?: string;
}

/** A name checked with the shared rule; throws an Error saying what a name may be. */
export function checkedChannelName(name: string): string {
  try {
    return parseChannelName(name);
  } catch {
    throw new Error(`Not a channel name: ${JSON.stringify(name.slice(0, 40))} (a channel name is ${CHANNEL_NAME_RULE}).`);
  }
}

/**
 * The channel the address asks for (`?channel=NAME&owner=TOKEN`): none (a private session), the join, or the
 * message to show instead of connecting (a bad name or token, or `owner=` without `channel=`).
 */
export function channelFromQuery(search: string): { join: ChannelRequest | null; error: string | null } {
  const params = new URLSearchParams(search);
  const channel = params.get("channel");
  const owner = params.get("owner");
  if (channel === null) return { join: null, error: owner === null ? null : "The address has owner= but no channel=: not connecting (open ?channel=NAME&owner=TOKEN)." };
  try {
    const name = checkedChannelName(channel);
    if (owner === null) return { join: { channel: name }, error: null };
    // the owner token as the server checks it (the shared validation of a client message)
    try {
      parseClientMessage({ type: "offer", wtVideo: true, channel: name, ownerToken: owner });
    } catch (e) {
      throw new Error(`The address's owner token is not one the server gives (${errorText(e)}).`);
    }
    return { join: { channel: name, ownerToken: owner }, error: null };
  } catch (e) {
    return { join: null, error: `Not connecting: ${errorText(e)}` };
  }
}

/** What an offer or a resume carries of the channel (nothing for a private session). */
export function channelFields(join: ChannelRequest | null): ChannelJoin {
  if (!join) return {};
  return { channel: join.channel, ...(join.ownerToken === undefined ? {} : { ownerToken: join.ownerToken }) };
}

/**
 * The join the next connection sends: the owner token the server gave this page (it owns the channel) is kept, so a
 * reconnecting owner stays the owner; a viewer's join is unchanged.
 */
export function nextJoin(join: ChannelRequest | null, info: ChannelInfo | undefined): ChannelRequest | null {
  if (!join || !info?.ownerToken || info.name !== join.channel) return join;
  return { channel: join.channel, ownerToken: info.ownerToken };
}

/** The page's address for watching channel `name` (`?channel=NAME`, and `&owner=TOKEN` for its owner's link); no other parameters. */
export function channelLink(href: string, name: string, ownerToken?: string): string {
  const url = new URL(href);
  url.search = "";
  url.hash = "";
  url.searchParams.set("channel", name);
  if (ownerToken !== undefined) url.searchParams.set("owner", ownerToken);
  return url.href;
}

/** The page's address for joining the channel a person typed (trimmed); throws an Error with what a name may be. */
export function joinAddress(href: string, typed: string): string {
  return channelLink(href, checkedChannelName(typed.trim()));
}

/** What the page says of the channel it watches. */
export function channelLabel(info: ChannelInfo): string {
  return `Channel ${info.name} · ${info.owner ? "you own it" : "watching (the owner sets fps and speed)"}`;
}

/** Why this viewer may not change fps and speed (the controls' title), or null when it may (a private session or the owner). */
export function liveSettingsLock(info: ChannelInfo | null): string | null {
  if (!info || info.owner) return null;
  return `Channel ${info.name}: only its owner changes fps and speed (the first viewer, or whoever opens the owner link).`;
}

/** Why the page must not send `change` (it changes fps or speed of a channel this viewer does not own), or null. */
export function refusedChange(change: SessionUpdate, info: ChannelInfo | null): string | null {
  const lock = liveSettingsLock(info);
  if (lock === null || (change.fps === undefined && change.speed === undefined)) return null;
  return `Not sent: ${lock}`;
}

/**
 * The network setting to send again after a channel viewer's session was resumed (signaling keeps no viewer's own
 * network across a resume in a channel and starts it with none): the one in force before, when it was not none and
 * the resumed session does not have it; else null.
 */
export function networkToRestore(channel: ChannelInfo | undefined, before: NetworkSettings | undefined, after: NetworkSettings): NetworkSettings | null {
  if (!channel || !before || (before.down === "" && before.up === "")) return null;
  return before.down === after.down && before.up === after.up ? null : before;
}
