/**
 * What the page says when ICE fails: which of media's advertised addresses the browser could not reach, and what to
 * fix (media's ICE_ADVERTISE_ADDRESS and its published UDP port), instead of a bare "connection failed".
 */

/** The distinct `address:port` of the UDP candidates in an SDP (the answer's: where media said it listens). */
export function sdpCandidateAddresses(sdp: string): string[] {
  const out = new Set<string>();
  for (const line of sdp.split(/\r?\n/)) {
    // a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …
    const f = /^a=candidate:\S+ \d+ (\S+) \d+ (\S+) (\d+) typ /i.exec(line.trim());
    if (f && f[1]!.toLowerCase() === "udp") out.add(f[2]!.includes(":") ? `[${f[2]}]:${f[3]}` : `${f[2]}:${f[3]}`);
  }
  return [...out];
}

/** The page's message for a failed WebRTC connection, from the answer's SDP (if any) and the host the page came from. */
export function iceFailureMessage(answerSdp: string | null | undefined, pageHost: string): string {
  const head = "The WebRTC connection failed: no ICE path to the media server.";
  const addresses = answerSdp ? sdpCandidateAddresses(answerSdp) : [];
  if (addresses.length === 0) return `${head} The media server's answer listed no UDP candidate: check its ICE_ADVERTISE_ADDRESS and ICE_UDP_PORT.`;
  const unbracket = (h: string) => h.replace(/^\[(.*)\]$/, "$1");
  const host = unbracket(pageHost);
  const offersPageHost = addresses.some((a) => unbracket(a.slice(0, a.lastIndexOf(":"))) === host);
  const hint = offersPageHost
    ? "is that UDP port published (and open) on that address, reaching the media server that answered?"
    : `none of them is ${host}, the address this page came from: set media's ICE_ADVERTISE_ADDRESS to an address this browser reaches (and publish its UDP port).`;
  return `${head} This browser could not reach media at ${addresses.join(", ")} (UDP), the address${addresses.length > 1 ? "es" : ""} media advertised: ${hint}`;
}
