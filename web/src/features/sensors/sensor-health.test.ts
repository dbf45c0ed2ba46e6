/**
 * Reading a sensor's or exporter's report as the server passes it through: whole, cut short, of
 * another version, or not an object at all. Nothing here may throw.
 */

import { describe, expect, it } from 'vitest';
import {
  interfacesLeftOut,
  MAX_EXPORTER_COUNTS,
  MAX_INTERFACES,
  readExporterCounts,
  readSensorHealth,
} from './sensor-health';

/** A report as src/server/sensor-service.ts sends it, less the sensor's name (the hub keeps that). */
const REPORT = {
  atMs: 1_750_000_000_000,
  version: '0.9.0',
  hostname: 'edge-host',
  capture: {
    interfaces: [
      {
        interface: 'eth0',
        state: 'running',
        pid: 4242,
        counters: {
          packets: 1200,
          received: 1200,
          kernelDropped: 3,
          interfaceDropped: 0,
          streamErrors: 0,
          restarts: 0,
        },
        failure: null,
      },
      {
        interface: 'eth1',
        state: 'failed',
        pid: null,
        counters: {},
        failure: 'tcpdump: eth1: No such device exists',
      },
    ],
    live: { at: 1_750_000_000_000, packetsPerSecond: 250, bytesPerSecond: 125_000, flowsPerSecond: 4 },
  },
  bufferedMessages: 12,
  bufferedBytes: 40_960,
  droppedMessages: 0,
};

describe("a sensor's report", () => {
  it('reads every field of a whole one', () => {
    expect(readSensorHealth(REPORT)).toEqual({
      reportedAtMs: 1_750_000_000_000,
      version: '0.9.0',
      hostname: 'edge-host',
      bufferedMessages: 12,
      bufferedBytes: 40_960,
      droppedMessages: 0,
      interfaces: [
        { name: 'eth0', state: 'running', packets: 1200, kernelDropped: 3 },
        { name: 'eth1', state: 'failed', failure: 'tcpdump: eth1: No such device exists' },
      ],
      packetsPerSecond: 250,
      bytesPerSecond: 125_000,
    });
  });

  it('is null when there is none, and empty but readable when it is cut short', () => {
    for (const nothing of [null, undefined, 'up', 42, [REPORT]]) expect(readSensorHealth(nothing)).toBeNull();
    expect(readSensorHealth({})).toEqual({ interfaces: [] });
    expect(readSensorHealth({ capture: null, bufferedMessages: 5 })).toEqual({
      bufferedMessages: 5,
      interfaces: [],
    });
  });

  it('leaves out fields of the wrong type and interfaces without a name', () => {
    const odd = readSensorHealth({
      atMs: 'yesterday',
      version: 7,
      hostname: '',
      bufferedMessages: -1,
      droppedMessages: Number.NaN,
      capture: {
        interfaces: [null, 'eth0', { state: 'running' }, { interface: 'wlan0', counters: { packets: '9' } }],
        live: 'fast',
      },
    });
    expect(odd).toEqual({ interfaces: [{ name: 'wlan0', state: 'unknown' }] });
  });

  it('shows a bounded number of interfaces and counts the rest', () => {
    const many = {
      capture: {
        interfaces: Array.from({ length: MAX_INTERFACES + 5 }, (_, i) => ({ interface: `if${i}` })),
      },
    };
    expect(readSensorHealth(many)?.interfaces).toHaveLength(MAX_INTERFACES);
    expect(interfacesLeftOut(many)).toBe(5);
    expect(interfacesLeftOut(REPORT)).toBe(0);
    expect(interfacesLeftOut(null)).toBe(0);
  });

  it('cuts long text from another host', () => {
    expect(readSensorHealth({ hostname: 'h'.repeat(5000) })?.hostname).toHaveLength(200);
  });
});

describe("an exporter's counts", () => {
  it('lists the known counts first, then any other number under its spaced name', () => {
    expect(
      readExporterCounts({
        templatesMissing: 2,
        records: 900,
        datagrams: 30,
        lastAddress: '192.0.2.1',
        lastSeenMs: 1_795_395_643_354,
      }),
    ).toEqual([
      { key: 'datagrams', label: 'datagrams', value: 30 },
      { key: 'records', label: 'records', value: 900 },
      { key: 'templatesMissing', label: 'templates missing', value: 2 },
    ]);
  });

  it('is empty for no report or one without numbers, and bounded for a large one', () => {
    for (const nothing of [null, 'x', [1, 2], { datagrams: '30' }])
      expect(readExporterCounts(nothing)).toEqual([]);
    const wide = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`count${i}`, i]));
    expect(readExporterCounts(wide)).toHaveLength(MAX_EXPORTER_COUNTS);
  });
});
