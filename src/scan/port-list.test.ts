import { describe, expect, it } from 'vitest';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { parsePorts, parsePortSpec, TOP_TCP_PORTS, TOP_UDP_PORTS } from './port-list.js';

function failure(run: () => unknown): FlowTrackError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(FlowTrackError);
    return err as FlowTrackError;
  }
  throw new Error('expected a FlowTrackError');
}

describe('parsePortSpec', () => {
  it('reads single ports and lists, sorted and without repeats', () => {
    expect(parsePortSpec('22')).toEqual({ tcp: [22], udp: [] });
    expect(parsePortSpec('443,22,80,22')).toEqual({ tcp: [22, 80, 443], udp: [] });
    expect(parsePortSpec(' 22 , 80 ')).toEqual({ tcp: [22, 80], udp: [] });
  });

  it('reads ranges, overlapping ones merged', () => {
    expect(parsePortSpec('1-1024').tcp).toHaveLength(1024);
    expect(parsePortSpec('8000-8003,8002-8005,80').tcp).toEqual([80, 8000, 8001, 8002, 8003, 8004, 8005]);
    expect(parsePortSpec('7-7').tcp).toEqual([7]);
  });

  it('reads open-ended ranges and "-" for all ports', () => {
    expect(parsePortSpec('-3').tcp).toEqual([1, 2, 3]);
    expect(parsePortSpec('65533-').tcp).toEqual([65533, 65534, 65535]);
    const all = parsePortSpec('-').tcp;
    expect(all).toHaveLength(65_535);
    expect(all[0]).toBe(1);
    expect(all.at(-1)).toBe(65_535);
    expect(parsePortSpec('1-65535')).toEqual(parsePortSpec('-'));
  });

  it('gives ports without a prefix to the default protocol', () => {
    expect(parsePortSpec('53,161', 'udp')).toEqual({ tcp: [], udp: [53, 161] });
  });

  it('applies T: and U: to the items after them, as nmap does', () => {
    expect(parsePortSpec('T:22,80,U:53,161')).toEqual({ tcp: [22, 80], udp: [53, 161] });
    expect(parsePortSpec('U:53,111,137,T:21-23,80')).toEqual({ tcp: [21, 22, 23, 80], udp: [53, 111, 137] });
    expect(parsePortSpec('443,u:53,t:22')).toEqual({ tcp: [22, 443], udp: [53] });
    expect(parsePortSpec('U:-3,T:65535-')).toEqual({ tcp: [65535], udp: [1, 2, 3] });
  });

  const bad: [string, RegExp][] = [
    ['', /the port list is empty/],
    ['   ', /the port list is empty/],
    ['0', /port 0 is reserved/],
    ['0-100', /port 0 is reserved/],
    ['65536', /port 65536 is past 65535/],
    ['1-70000', /port 70000 is past 65535/],
    ['100-10', /the range "100-10" ends before it starts/],
    ['http', /"http" is not a port or range \(ports are given by number/],
    ['22,ssh', /"ssh" is not a port or range/],
    ['1-2-3', /"1-2-3" is not a port or range/],
    ['22;80', /"22;80" is not a port or range/],
    ['22.5', /"22\.5" is not a port or range/],
    ['22,,80', /empty item between commas/],
    ['22,', /empty item between commas/],
    ['T:', /"T:" has no port after it/],
    ['T:22,U:', /"U:" has no port after it/],
    ['S:9', /SCTP \(S:\) is not scanned/],
    ['X:22', /"X:" is no protocol: use T: for TCP and U: for UDP/],
  ];
  for (const [spec, message] of bad) {
    it(`refuses ${JSON.stringify(spec)} with BAD_REQUEST naming the list and showing the syntax`, () => {
      const err = failure(() => parsePortSpec(spec));
      expect(err.code).toBe(ErrorCode.BAD_REQUEST);
      expect(err.message).toMatch(message);
      expect(err.message).toContain(`port list ${JSON.stringify(spec)}`);
      expect(err.message).toMatch(/write ports like 22, 22,80,443, 1-1024, .*T:22,80,U:53,161/);
    });
  }
});

describe('parsePorts', () => {
  it('reads a single-protocol list', () => {
    expect(parsePorts('22,80,8000-8002')).toEqual([22, 80, 8000, 8001, 8002]);
  });

  it('refuses protocol prefixes it cannot honour', () => {
    expect(failure(() => parsePorts('T:22,U:53')).message).toMatch(/protocol prefixes \(T:, U:\)/);
    expect(failure(() => parsePorts('22, u:53')).message).toMatch(/protocol prefixes/);
  });
});

/** Ports where a dangerous exposure is found: each must be in the default TCP list. */
const EXPOSURE_TCP_PORTS = [
  21, 22, 23, 25, 53, 111, 135, 139, 445, 161, 389, 1433, 1521, 2049, 2375, 2376, 2379, 3306, 3389, 5432,
  5900, 5901, 5902, 5903, 5984, 6379, 6443, 8080, 8443, 9200, 9300, 10250, 11211, 27017, 50000, 5601, 15672,
  4369, 9090, 9100, 873, 512, 513, 514, 1883, 5672, 61616, 8086, 7001, 8009, 2181, 9092, 6000, 3000,
];

/** The ones of them (and others) that are exposed over UDP: each must be in the default UDP list. */
const EXPOSURE_UDP_PORTS = [
  53, 67, 68, 69, 111, 123, 137, 138, 161, 162, 389, 500, 514, 520, 623, 1434, 1900, 2049, 3478, 4500, 5060,
  5353, 11211, 27015,
];

function checkList(list: readonly number[]): void {
  expect(new Set(list).size).toBe(list.length);
  for (const port of list) {
    expect(Number.isInteger(port)).toBe(true);
    expect(port).toBeGreaterThanOrEqual(1);
    expect(port).toBeLessThanOrEqual(65_535);
  }
  expect(Object.isFrozen(list)).toBe(true);
}

describe('TOP_TCP_PORTS', () => {
  it('holds a thousand distinct ports, none 0 or out of range', () => {
    expect(TOP_TCP_PORTS).toHaveLength(1000);
    checkList(TOP_TCP_PORTS);
  });

  it('holds every port a dangerous exposure is found on', () => {
    expect(EXPOSURE_TCP_PORTS.filter((p) => !TOP_TCP_PORTS.includes(p))).toEqual([]);
  });

  it('puts the most common services first', () => {
    expect(TOP_TCP_PORTS.slice(0, 3)).toEqual([80, 443, 22]);
    for (const port of [21, 23, 25, 53, 3389, 445, 8080, 3306]) {
      expect(TOP_TCP_PORTS.indexOf(port)).toBeLessThan(30);
    }
  });

  it('ranks dev servers, container APIs and debuggers before the filler system ports', () => {
    // The ranked part names port 1 (tcpmux); the unranked system ports follow it from 2 up.
    const firstFiller = TOP_TCP_PORTS.indexOf(2);
    expect(TOP_TCP_PORTS.slice(firstFiller, firstFiller + 3)).toEqual([2, 3, 4]);
    for (const port of [3000, 5000, 8000, 8080, 8443, 9000, 9200, 2375, 10250, 9229]) {
      expect(TOP_TCP_PORTS.indexOf(port)).toBeLessThan(firstFiller);
    }
  });
});

describe('TOP_UDP_PORTS', () => {
  it('holds about a hundred distinct ports, none 0 or out of range', () => {
    expect(TOP_UDP_PORTS.length).toBeGreaterThanOrEqual(90);
    expect(TOP_UDP_PORTS.length).toBeLessThanOrEqual(110);
    checkList(TOP_UDP_PORTS);
  });

  it('holds every UDP port a dangerous exposure or reflection is found on', () => {
    expect(EXPOSURE_UDP_PORTS.filter((p) => !TOP_UDP_PORTS.includes(p))).toEqual([]);
  });

  it('puts DNS first', () => {
    expect(TOP_UDP_PORTS[0]).toBe(53);
  });
});
