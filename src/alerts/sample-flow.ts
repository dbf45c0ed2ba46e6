/**
 * A flow from the flow table as alert evidence, in text form. Built only when a detector reports,
 * never per packet.
 */

import { readFlowRecord } from '../flows/flow-record.js';
import { EndReason, type FlowTable } from '../flows/flow-table.js';
import type { SampleFlow } from './alert.js';

/** The flow in `slot` of `flows` as a SampleFlow ("192.0.2.1:40000" style endpoints). */
export function sampleFlowOf(flows: FlowTable, slot: number): SampleFlow {
  const r = readFlowRecord(flows, slot, EndReason.FLUSH);
  const ports = r.protocol === 'tcp' || r.protocol === 'udp';
  return {
    protocol: r.protocol,
    client: ports ? `${r.clientAddress}:${r.clientPort}` : r.clientAddress,
    server: ports ? `${r.serverAddress}:${r.serverPort}` : r.serverAddress,
    packets: r.packetsToServer + r.packetsToClient,
    bytes: r.bytesToServer + r.bytesToClient,
    state: r.state,
  };
}
