/**
 * Every session's ICE on one UDP port (`ICE_UDP_PORT`), as LiveKit's UDP mux and mediasoup's WebRtcServer do: one
 * socket, and per ICE transport werift asks for a virtual one that shares it. A datagram from an address already
 * seen goes to the transport that talks to it; one from a new address must be a STUN binding request whose USERNAME
 * (`<our ufrag>:<their ufrag>`, RFC 8445 §7.2.2) names the ICE agent it is for; anything else is dropped. A
 * transport's own sends teach the mux their destinations too (STUN/TURN servers, our connectivity checks), and a
 * STUN response goes to the transport that sent the request (by transaction id): werift gives an agent one
 * transport per local address, and each matches only its own transactions.
 *
 * werift has no transport option: its STUN protocols call `UdpTransport.init`, which {@link installUdpMux}
 * replaces for IPv4 while the mux is installed (werift's ESM bundle calls the class it exports). Each virtual
 * transport has a `socket` that looks like a node:dgram one (send, `message` events, close), so the error guard and
 * the emulated links (ice-link.ts) wrap it as they wrap a real one, per session.
 */
import { type RemoteInfo, type Socket, createSocket } from "node:dgram";
import { EventEmitter } from "node:events";
import type { Logger } from "@ballstream/runtime";
import { UdpTransport } from "werift";

/** STUN's magic cookie (RFC 5389). */
const MAGIC_COOKIE = 0x2112a442;
/** STUN message type of a Binding request, and the USERNAME attribute's type. */
const BINDING_REQUEST = 0x0001;
const USERNAME = 0x0006;

/** The USERNAME of a STUN Binding request (undefined for anything else: not STUN, another type, no USERNAME, malformed). */
export function bindingRequestUsername(data: Uint8Array): string | undefined {
  if (data.length < 20 || (data[0]! & 0xc0) !== 0) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint16(0) !== BINDING_REQUEST || view.getUint32(4) !== MAGIC_COOKIE) return undefined;
  const end = Math.min(data.length, 20 + view.getUint16(2));
  for (let at = 20; at + 4 <= end; ) {
    const type = view.getUint16(at);
    const length = view.getUint16(at + 2);
    if (at + 4 + length > end) return undefined;
    if (type === USERNAME) return new TextDecoder().decode(data.subarray(at + 4, at + 4 + length));
    at += 4 + length + ((4 - (length % 4)) % 4);
  }
  return undefined;
}

/** The STUN class of a message (request, indication, success or error response), or undefined for anything that is not STUN. */
export function stunClass(data: Uint8Array): "request" | "indication" | "success" | "error" | undefined {
  if (data.length < 20 || (data[0]! & 0xc0) !== 0) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(4) !== MAGIC_COOKIE) return undefined;
  const bits = view.getUint16(0) & 0x0110;
  return bits === 0 ? "request" : bits === 0x0010 ? "indication" : bits === 0x0100 ? "success" : "error";
}

/** A STUN message's transaction id (hex), for matching a response to the request. */
function transactionId(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset + 8, 12).toString("hex");
}

/** Requests whose responses the mux remembers at once (oldest forgotten first): checks of ~40 agents in flight. */
const MAX_TRANSACTIONS = 4096;

/** The ICE agent a Binding request is for: the part of its USERNAME before the colon (ours). */
export function localUfragOf(username: string): string | undefined {
  const colon = username.indexOf(":");
  return colon > 0 ? username.slice(0, colon) : undefined;
}

const key = (address: string, port: number) => `${address}:${port}`;

/** A virtual ICE socket on the mux: node:dgram's surface as werift and our wrappers use it. */
class MuxSocket extends EventEmitter {
  readonly #mux: UdpMux;
  #closed = false;

  constructor(mux: UdpMux) {
    super();
    this.#mux = mux;
  }

  /** Sends through the shared socket (a callback, if any, last), learning the destination for this socket. */
  send(data: Uint8Array, port: number, address: string, callback?: (error: Error | null) => void): void {
    if (this.#closed) return callback?.(new Error("socket closed"));
    this.#mux.sendFor(this, data, port, address, callback);
  }

  /** The shared socket's address (all virtual sockets have the same port). */
  address() {
    return this.#mux.address();
  }

  /** Releases this socket's addresses; emits `close`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#mux.release(this);
    queueMicrotask(() => this.emit("close"));
  }
}

/** What werift uses of a `UdpTransport`, served by the mux. */
class MuxTransport {
  readonly type = "udp";
  readonly socket: MuxSocket;
  rinfo: RemoteInfo | undefined;
  onData: (data: Buffer, addr: [string, number]) => void = () => {};
  closed = false;

  constructor(mux: UdpMux) {
    this.socket = new MuxSocket(mux);
    this.socket.on("message", (data: Buffer, info: RemoteInfo) => {
      this.rinfo = info;
      this.onData(data, [info.address, info.port]);
    });
  }

  readonly send = async (data: Buffer, addr?: [string, number]): Promise<void> => {
    const to = addr ?? [this.rinfo?.address ?? "", this.rinfo?.port ?? 0];
    this.socket.send(data, to[1], to[0]);
  };

  readonly close = async (): Promise<void> => {
    this.closed = true;
    this.socket.close();
  };

  get address() {
    return this.socket.address();
  }

  get host(): string {
    return this.socket.address().address;
  }

  get port(): number {
    return this.socket.address().port;
  }
}

/** One UDP socket for every session's ICE (see the module's comment). */
export class UdpMux {
  readonly #socket: Socket;
  readonly #log: Logger;
  /** Who talks to each remote `address:port`. */
  readonly #byRemote = new Map<string, MuxSocket>();
  /** Each virtual socket's remote addresses, to release them with it. */
  readonly #remotesOf = new Map<MuxSocket, Set<string>>();
  /** The virtual sockets of each local ICE ufrag. */
  readonly #byUfrag = new Map<string, MuxSocket[]>();
  /** Who sent each STUN request still awaiting its response, by transaction id. */
  readonly #byTransaction = new Map<string, MuxSocket>();
  /** Datagrams dropped: from an unknown address and not a Binding request for a known agent. */
  dropped = 0;

  private constructor(socket: Socket, log: Logger) {
    this.#socket = socket;
    this.#log = log;
    socket.on("message", (data, info) => this.#receive(data, info));
    socket.on("error", (err) => log.debug({ err: err.message }, "ICE mux socket error (ignored)"));
  }

  /** Binds the shared socket on `host:port` (port 0: any). */
  static async bind(host: string, port: number, log: Logger): Promise<UdpMux> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ address: host, port }, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    return new UdpMux(socket, log);
  }

  /** The shared socket's address. */
  address() {
    return this.#socket.address();
  }

  /** Virtual sockets now open. */
  get size(): number {
    return this.#remotesOf.size;
  }

  /** A new virtual transport, as werift's `UdpTransport.init` would return. */
  transport(): MuxTransport {
    const transport = new MuxTransport(this);
    this.#remotesOf.set(transport.socket, new Set());
    return transport;
  }

  /** Says that requests for the local ufrag `ufrag` belong to `transports` (an ICE agent's, after gathering). */
  register(ufrag: string, transports: readonly { socket?: unknown }[]): void {
    const sockets = transports.flatMap((t) => (t.socket instanceof MuxSocket ? [t.socket] : []));
    if (sockets.length > 0) this.#byUfrag.set(ufrag, sockets);
  }

  /** Sends `data` for `from` to `address:port`, which from now on is `from`'s. */
  sendFor(from: MuxSocket, data: Uint8Array, port: number, address: string, callback?: (error: Error | null) => void): void {
    this.#claim(from, key(address, port));
    if (stunClass(data) === "request") {
      this.#byTransaction.set(transactionId(data), from);
      if (this.#byTransaction.size > MAX_TRANSACTIONS) this.#byTransaction.delete(this.#byTransaction.keys().next().value as string);
    }
    this.#socket.send(data, port, address, callback);
  }

  /** Forgets a closed virtual socket. */
  release(socket: MuxSocket): void {
    for (const remote of this.#remotesOf.get(socket) ?? []) if (this.#byRemote.get(remote) === socket) this.#byRemote.delete(remote);
    for (const [id, owner] of this.#byTransaction) if (owner === socket) this.#byTransaction.delete(id);
    this.#remotesOf.delete(socket);
    for (const [ufrag, sockets] of this.#byUfrag) {
      const left = sockets.filter((s) => s !== socket);
      if (left.length === 0) this.#byUfrag.delete(ufrag);
      else if (left.length !== sockets.length) this.#byUfrag.set(ufrag, left);
    }
  }

  /** Closes the shared socket. */
  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  #claim(socket: MuxSocket, remote: string): void {
    if (this.#byRemote.get(remote) === socket) return;
    this.#byRemote.set(remote, socket);
    this.#remotesOf.get(socket)?.add(remote);
  }

  #receive(data: Buffer, info: RemoteInfo): void {
    const remote = key(info.address, info.port);
    const kind = stunClass(data);
    if (kind === "success" || kind === "error") {
      const id = transactionId(data);
      const asker = this.#byTransaction.get(id);
      if (asker !== undefined) {
        this.#byTransaction.delete(id);
        asker.emit("message", data, info);
        return;
      }
    }
    let socket = this.#byRemote.get(remote);
    if (socket === undefined) {
      const username = bindingRequestUsername(data);
      const ufrag = username === undefined ? undefined : localUfragOf(username);
      socket = ufrag === undefined ? undefined : this.#byUfrag.get(ufrag)?.[0];
      if (socket === undefined) {
        if (this.dropped++ === 0) this.#log.debug({ from: remote }, "ICE mux: datagram from an unknown address dropped");
        return;
      }
      this.#claim(socket, remote);
    }
    socket.emit("message", data, info);
  }
}

/**
 * Makes werift's IPv4 `UdpTransport.init` hand out `mux`'s virtual transports (IPv6 keeps real sockets); returns
 * the function that puts the original back. One mux at a time per process.
 */
export function installUdpMux(mux: UdpMux): () => void {
  const target = UdpTransport as unknown as { init: (type: string, options?: unknown) => Promise<unknown> };
  const original = target.init;
  target.init = async (type: string, options?: unknown) => (type === "udp4" ? mux.transport() : original.call(UdpTransport, type, options));
  return () => {
    target.init = original;
  };
}
