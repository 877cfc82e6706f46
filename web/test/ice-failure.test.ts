/** The message of a failed ICE connection (web/src/lib/ice-failure.ts). */
import { describe, expect, test } from "bun:test";
import { iceFailureMessage, sdpCandidateAddresses } from "../src/lib/ice-failure.ts";

const answer = (candidates: string[]) =>
  ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", ...candidates.map((c) => `a=${c}`), "a=end-of-candidates", ""].join("\r\n");

describe("sdpCandidateAddresses", () => {
  test("lists each UDP candidate's address:port once, skips TCP candidates and other lines", () => {
    const sdp = answer([
      "candidate:1 1 udp 2130706431 10.244.0.3 40000 typ host",
      "candidate:2 1 UDP 2130706175 192.168.77.1 40000 typ host",
      "candidate:1 2 udp 2130706430 10.244.0.3 40000 typ host", // component 2: same address
      "candidate:3 1 tcp 1518280447 192.168.77.1 9 typ host tcptype active",
      "candidate:4 1 udp 1694498815 fd00::1 40001 typ srflx raddr 0.0.0.0 rport 0",
    ]);
    expect(sdpCandidateAddresses(sdp)).toEqual(["10.244.0.3:40000", "192.168.77.1:40000", "[fd00::1]:40001"]);
  });

  test("an SDP without candidates gives none", () => {
    expect(sdpCandidateAddresses(answer([]))).toEqual([]);
    expect(sdpCandidateAddresses("")).toEqual([]);
  });
});

describe("iceFailureMessage", () => {
  test("media advertised only its pod address: names it, says it is not the page's host and points at ICE_ADVERTISE_ADDRESS", () => {
    const m = iceFailureMessage(answer(["candidate:1 1 udp 2130706431 10.244.0.3 40000 typ host"]), "192.168.77.1");
    expect(m).toStartWith("The WebRTC connection failed: no ICE path to the media server.");
    expect(m).toContain("could not reach media at 10.244.0.3:40000 (UDP), the address media advertised");
    expect(m).toContain("none of them is 192.168.77.1, the address this page came from");
    expect(m).toContain("ICE_ADVERTISE_ADDRESS");
  });

  test("media advertised the page's host: the port is the suspect", () => {
    const m = iceFailureMessage(answer(["candidate:1 1 udp 1 10.244.0.3 40000 typ host", "candidate:2 1 udp 1 192.168.77.1 40000 typ host"]), "192.168.77.1");
    expect(m).toContain("at 10.244.0.3:40000, 192.168.77.1:40000 (UDP), the addresses media advertised");
    expect(m).toContain("is that UDP port published");
    expect(m).not.toContain("none of them");
  });

  test("an IPv6 page host in brackets matches a bracketed candidate", () => {
    const m = iceFailureMessage(answer(["candidate:1 1 udp 1 fd00::1 40000 typ host"]), "[fd00::1]");
    expect(m).toContain("[fd00::1]:40000");
    expect(m).toContain("is that UDP port published");
  });

  test("no answer, or an answer without candidates, says so", () => {
    for (const sdp of [undefined, null, answer([])]) expect(iceFailureMessage(sdp, "192.168.77.1")).toContain("listed no UDP candidate");
  });
});
