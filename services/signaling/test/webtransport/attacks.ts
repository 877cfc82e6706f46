/**
 * Test helper: QUIC-layer attacks on a WebTransport port of 127.0.0.1 from another loopback address (127.0.0.2
 * plays the attacker's machine): a flood of Initials, half-open handshakes, and unfinished HEADERS frames that
 * try to make the server buffer without bound. Each is bounded in count and time.
 */
import { concatBytes } from "../../src/webtransport/bytes.ts";
import { FRAME_TYPE } from "../../src/webtransport/frames.ts";
import { encodeVarint } from "../../src/webtransport/varint.ts";
import { type RawClient, clientInitial, connectRawClient } from "./quic-client.ts";

/** The attacker's source address. */
export const ATTACKER_HOST = "127.0.0.2";

/** What a flood of Initials achieved. */
export interface FloodResult {
  readonly sent: number;
  /** Retry packets that came back (the server kept no state for those Initials). */
  readonly retries: number;
  /** Other packets that came back (handshake packets: the server did keep state). */
  readonly others: number;
}

/**
 * Sends Initials of fresh connection attempts from one UDP socket at `ratePerS` for `durationMs` (at most 20,000),
 * each with a new connection id and no token, and never answers: a handshake flood.
 */
export async function floodInitials(wtPort: number, ratePerS: number, durationMs: number): Promise<FloodResult> {
  let retries = 0;
  let others = 0;
  const socket = await Bun.udpSocket({
    hostname: ATTACKER_HOST,
    port: 0,
    socket: {
      data: (_s, data) => {
        if ((data[0]! & 0xf0) === 0xf0) retries++;
        else others++;
      },
      error: () => {},
    },
  });
  const local = { host: ATTACKER_HOST, port: socket.port };
  const total = Math.min(20_000, Math.round((ratePerS * durationMs) / 1000));
  const started = performance.now();
  for (let sent = 0; sent < total; sent++) {
    socket.send(clientInitial(wtPort, local), wtPort, "127.0.0.1");
    const due = started + ((sent + 1) * 1000) / ratePerS;
    if (performance.now() < due - 2) await Bun.sleep(due - performance.now());
    else if (sent % 50 === 49) await Bun.sleep(0); // let the socket read what came back
  }
  await Bun.sleep(200);
  socket.close();
  return { sent: total, retries, others };
}

/** Completes up to `count` QUIC handshakes and then stays silent (no CONNECT); returns the clients that got in. */
export async function halfOpen(wtPort: number, count: number): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  for (let i = 0; i < count; i++) {
    try {
      clients.push(await connectRawClient(wtPort, ATTACKER_HOST, 1000));
    } catch {
      // refused: the per-address cap
    }
  }
  return clients;
}

/**
 * Opens `connections` connections and on each `streams` request streams that start a HEADERS frame declaring
 * 60,000 bytes and send up to 59,000 of them, never finishing it (no CONNECT, no origin), for at most `durationMs`.
 * Returns the clients (still open) and the bytes the server's flow control let through.
 */
export async function unfinishedHeaders(wtPort: number, connections: number, streams: number, durationMs: number): Promise<{ clients: RawClient[]; accepted: number }> {
  const clients: RawClient[] = [];
  for (let i = 0; i < connections; i++) clients.push(await connectRawClient(wtPort, ATTACKER_HOST));
  const opening = concatBytes(encodeVarint(FRAME_TYPE.headers), encodeVarint(60_000));
  const ids = Array.from({ length: streams }, (_, i) => 4 * i);
  const sent = clients.map(() => new Map(ids.map((id) => [id, 0])));
  let accepted = 0;
  clients.forEach((client) => {
    for (const id of ids) accepted += client.offer(id, opening);
  });
  const deadline = Date.now() + durationMs;
  let lastProgress = Date.now();
  while (Date.now() < deadline && Date.now() - lastProgress < 1000) {
    clients.forEach((client, c) => {
      for (const id of ids) {
        const taken = client.offer(id, new Uint8Array(59_000 - sent[c]!.get(id)!));
        sent[c]!.set(id, sent[c]!.get(id)! + taken);
        accepted += taken;
        if (taken > 0) lastProgress = Date.now();
      }
    });
    await Bun.sleep(5);
  }
  return { clients, accepted };
}
