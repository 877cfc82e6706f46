/**
 * Reading the page's RTCPeerConnection from a test: an init script keeps every one the page makes, and readers
 * evaluate in the page (self-contained functions: Playwright sends their source, not their closure).
 */
import type { EvaluatingPage } from "@ballstream/web/hook-reader";

/** Runs in the page before its scripts (`page.addInitScript`): keeps each RTCPeerConnection in `globalThis.__pcs`. */
export function keepPeerConnections(): void {
  const g = globalThis as unknown as { __pcs: RTCPeerConnection[] };
  g.__pcs = [];
  const Original = RTCPeerConnection;
  (globalThis as unknown as { RTCPeerConnection: typeof RTCPeerConnection }).RTCPeerConnection = class extends Original {
    constructor(config?: RTCConfiguration) {
      super(config);
      g.__pcs.push(this);
    }
  };
}

/** One end of an ICE candidate pair, as getStats reports it. */
export interface CandidateEnd {
  readonly address: string;
  readonly port: number;
  readonly type: string;
}

/** The page's last peer connection: its offer's and answer's SDP and the candidate pair ICE selected (null before one is). */
export interface IceRoute {
  readonly localSdp: string | null;
  readonly remoteSdp: string | null;
  readonly local: CandidateEnd | null;
  readonly remote: CandidateEnd | null;
  readonly connectionState: string;
}

/** Reads {@link IceRoute} of the page's last RTCPeerConnection (needs {@link keepPeerConnections}). */
export function readIceRoute(page: EvaluatingPage): Promise<IceRoute> {
  return page.evaluate(async () => {
    const pc = (globalThis as unknown as { __pcs?: RTCPeerConnection[] }).__pcs?.at(-1);
    if (!pc) throw new Error("no RTCPeerConnection on the page (addInitScript(keepPeerConnections) first)");
    const stats = [...(await pc.getStats()).values()] as Array<Record<string, unknown>>;
    const byId = new Map(stats.map((s) => [s.id, s]));
    const transport = stats.find((s) => s.type === "transport");
    const pair = byId.get(transport?.selectedCandidatePairId) ?? stats.find((s) => s.type === "candidate-pair" && s.nominated === true && s.state === "succeeded");
    const end = (id: unknown) => {
      const c = byId.get(id);
      return c ? { address: String(c.address ?? c.ip ?? ""), port: Number(c.port), type: String(c.candidateType) } : null;
    };
    return { localSdp: pc.localDescription?.sdp ?? null, remoteSdp: pc.remoteDescription?.sdp ?? null, local: end(pair?.localCandidateId), remote: end(pair?.remoteCandidateId), connectionState: pc.connectionState };
  });
}
