/**
 * What the IPFIX encoder and exporter tests share: a small IPFIX decoder written from RFC 7011,
 * independent of FlowTrack's own encoder and collector (it learns the templates from the
 * messages, as a collector does), and the flows the tests send. Test-only: never imported by src/.
 */

import type { FlowRow } from '../../src/store/flow-repository.js';

// ---------------------------------------------------------------- an independent decoder

interface DecodedRecord {
  templateId: number;
  /** Information element id -> value: addresses as text, everything else as a number. */
  fields: Map<number, number | string>;
}

interface DecodedMessage {
  version: number;
  length: number;
  exportTime: number;
  sequence: number;
  domain: number;
  /** Templates this message defined, in order. */
  templateIds: number[];
  records: DecodedRecord[];
}

/** Decodes one IPFIX message; `templates` carries what earlier messages defined (id -> [ie, length][]). */
function decodeIpfix(buf: Buffer, templates: Map<number, [number, number][]>): DecodedMessage {
  const message: DecodedMessage = {
    version: buf.readUInt16BE(0),
    length: buf.readUInt16BE(2),
    exportTime: buf.readUInt32BE(4),
    sequence: buf.readUInt32BE(8),
    domain: buf.readUInt32BE(12),
    templateIds: [],
    records: [],
  };
  let offset = 16;
  while (offset < message.length) {
    const setId = buf.readUInt16BE(offset);
    const setEnd = offset + buf.readUInt16BE(offset + 2);
    if (setEnd > message.length || setEnd <= offset) throw new Error(`bad set length at ${offset}`);
    let at = offset + 4;
    if (setId === 2) {
      while (at + 4 <= setEnd) {
        const id = buf.readUInt16BE(at);
        const count = buf.readUInt16BE(at + 2);
        at += 4;
        const fields: [number, number][] = [];
        for (let i = 0; i < count; i++, at += 4)
          fields.push([buf.readUInt16BE(at), buf.readUInt16BE(at + 2)]);
        templates.set(id, fields);
        message.templateIds.push(id);
      }
    } else {
      const fields = templates.get(setId);
      if (!fields) throw new Error(`data set ${setId} before its template`);
      const size = fields.reduce((n, [, len]) => n + len, 0);
      for (; at + size <= setEnd; at += size) {
        const record: DecodedRecord = { templateId: setId, fields: new Map() };
        let p = at;
        for (const [ie, len] of fields) {
          record.fields.set(ie, decodeField(buf.subarray(p, p + len)));
          p += len;
        }
        message.records.push(record);
      }
    }
    offset = setEnd;
  }
  return message;
}

function decodeField(bytes: Buffer): number | string {
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    return groups.join(':');
  }
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return Number(n);
}

export const SRC4 = 8;
export const DST4 = 12;
export const SRC6 = 27;
export const DST6 = 28;
export const SRC_PORT = 7;
export const DST_PORT = 11;
export const PROTO = 4;
export const TCP_FLAGS = 6;
export const OCTETS = 1;
export const PACKETS = 2;
export const START_MS = 152;
export const END_MS = 153;
export const END_REASON = 136;

export const ipv4Text = (n: number | string | undefined): string => {
  const v = Number(n);
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
};

/** A collector's view: decodes messages in order, remembering the templates across calls. */
export function collectorView(): (messages: readonly Buffer[]) => DecodedMessage[] {
  const templates = new Map<number, [number, number][]>();
  return (messages) => messages.map((m) => decodeIpfix(m, templates));
}

/** Decodes messages that define their own templates. */
export const decodeAll = (messages: readonly Buffer[]): DecodedMessage[] => collectorView()(messages);

// ---------------------------------------------------------------- flows

export function flow(overrides: Partial<FlowRow> = {}): FlowRow {
  return {
    firstSeenUs: 1_632_239_124_430_031,
    lastSeenUs: 1_632_239_125_987_654,
    ipVersion: 4,
    protocol: 'tcp',
    srcAddr: '192.0.2.10',
    dstAddr: '198.51.100.7',
    srcPort: 40000,
    dstPort: 443,
    packetsToServer: 5,
    bytesToServer: 600,
    packetsToClient: 4,
    bytesToClient: 9000,
    tcpFlagsToServer: 'SFPA',
    tcpFlagsToClient: 'SFPAN',
    state: 'closed-fin',
    endReason: 'closed',
    ...overrides,
  };
}

export const v6flow = (overrides: Partial<FlowRow> = {}): FlowRow =>
  flow({
    ipVersion: 6,
    protocol: 'udp',
    srcAddr: '2001:db8::1',
    dstAddr: '2001:db8:0:0:1:0:0:2',
    ...overrides,
  });

/** `n` flows with distinct client ports, every third IPv6. */
export const manyFlows = (n: number): FlowRow[] =>
  Array.from({ length: n }, (_, i) =>
    i % 3 === 2 ? v6flow({ srcPort: 1000 + i }) : flow({ srcPort: 1000 + i }),
  );
