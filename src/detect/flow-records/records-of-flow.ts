/**
 * What a router's NetFlow/IPFIX export would say about one of FlowTrack's bidirectional flows: one
 * record per direction that carried packets (the client's, then the server's, if it answered), as
 * FlowRows with no packets back, the direction's own TCP flags, and for ICMP the type and code in
 * the destination port (type * 256 + code, source port 0; the server's direction of an echo is an
 * echo reply, other ICMP keeps its type). Both records keep the flow's times: the flow table keeps no times per direction.
 * For tests and benchmarks of the flow-record detectors on real captures; no I/O.
 */

import type { FlowRecord } from '../../flows/flow-record.js';
import type { FlowRow } from '../../store/flow-repository.js';

/** The one or two one-way records of `flow`. */
export function recordsOfFlow(flow: FlowRecord): FlowRow[] {
  const icmp = flow.protocol === 'icmp' || flow.protocol === 'icmpv6';
  const type = flow.icmpType ?? -1;
  const code = flow.icmpCode ?? 0;
  const forward: FlowRow = {
    firstSeenUs: flow.firstSeen,
    lastSeenUs: flow.lastSeen,
    ipVersion: flow.ipVersion,
    protocol: flow.protocol,
    srcAddr: flow.clientAddress,
    dstAddr: flow.serverAddress,
    srcPort: icmp ? 0 : flow.clientPort,
    dstPort: icmp ? (type >= 0 ? type * 256 + code : 0) : flow.serverPort,
    packetsToServer: flow.packetsToServer,
    bytesToServer: flow.bytesToServer,
    packetsToClient: 0,
    bytesToClient: 0,
    tcpFlagsToServer: flow.tcpFlagsClient,
    tcpFlagsToClient: '',
    state: flow.state,
    endReason: flow.endReason,
  };
  const rows = forward.packetsToServer > 0 ? [forward] : [];
  if (flow.packetsToClient > 0) {
    const replyType = type === 8 ? 0 : type === 128 ? 129 : -1;
    rows.push({
      ...forward,
      srcAddr: flow.serverAddress,
      dstAddr: flow.clientAddress,
      srcPort: icmp ? 0 : flow.serverPort,
      dstPort: icmp ? (replyType >= 0 ? replyType * 256 : forward.dstPort) : flow.clientPort,
      packetsToServer: flow.packetsToClient,
      bytesToServer: flow.bytesToClient,
      tcpFlagsToServer: flow.tcpFlagsServer,
    });
  }
  return rows;
}
