/** The "New scan" form's values as the API's body: what is sent, and what is asked for first. */

import { describe, expect, it } from 'vitest';
import {
  defaultPortsText,
  EMPTY_SCAN_FORM,
  MAX_TARGETS,
  parseTargets,
  scanBodyOf,
  type ScanForm,
} from './scan-form';

function form(overrides: Partial<ScanForm>): ScanForm {
  return { ...EMPTY_SCAN_FORM, ...overrides };
}

describe('scan form: targets', () => {
  it('splits on spaces, commas and new lines, each target once, in the order typed', () => {
    expect(parseTargets(' 192.0.2.7, 192.0.2.0/24\n192.0.2.5-20  host.example.org,,192.0.2.7 ')).toEqual([
      '192.0.2.7',
      '192.0.2.0/24',
      '192.0.2.5-20',
      'host.example.org',
    ]);
  });

  it('keeps IPv6 addresses and ranges whole', () => {
    expect(parseTargets('2001:db8::1-2001:db8::ff,::1')).toEqual(['2001:db8::1-2001:db8::ff', '::1']);
  });

  it('gives nothing for an empty or blank field', () => {
    expect(parseTargets('')).toEqual([]);
    expect(parseTargets(' , \n ')).toEqual([]);
  });
});

describe('scan form: the body', () => {
  it('sends the targets as a list, the choices as they are, and no ports when left empty', () => {
    expect(scanBodyOf(form({ targets: '127.0.0.1 ::1' }))).toEqual({
      ok: true,
      value: {
        targets: ['127.0.0.1', '::1'],
        tcp: true,
        udp: false,
        engine: 'flowtrack',
        discovery: true,
      },
    });
  });

  it('sends a port list trimmed, UDP, nmap and discovery off when chosen', () => {
    expect(
      scanBodyOf(
        form({ targets: '192.0.2.0/24', ports: ' 22,80,U:53 ', udp: true, engine: 'nmap', discovery: false }),
      ),
    ).toEqual({
      ok: true,
      value: {
        targets: ['192.0.2.0/24'],
        ports: '22,80,U:53',
        tcp: true,
        udp: true,
        engine: 'nmap',
        discovery: false,
      },
    });
  });

  it('asks for what is missing before asking the server', () => {
    expect(scanBodyOf(form({ targets: ' , ' }))).toMatchObject({ ok: false, error: /target/ });
    expect(scanBodyOf(form({ targets: '127.0.0.1', tcp: false, udp: false }))).toMatchObject({
      ok: false,
      error: /TCP, UDP or both/,
    });
  });

  it('refuses more targets, or longer ones, than the API takes', () => {
    const many = Array.from({ length: MAX_TARGETS + 1 }, (_, i) => `192.0.2.${i}`).join(' ');
    expect(scanBodyOf(form({ targets: many }))).toMatchObject({
      ok: false,
      error: /At most 64 targets \(65 given\)/,
    });
    expect(scanBodyOf(form({ targets: `${'a'.repeat(250)}.example.org` }))).toMatchObject({
      ok: false,
      error: /255 characters/,
    });
    expect(scanBodyOf(form({ targets: '127.0.0.1', ports: '1,'.repeat(1001) }))).toMatchObject({
      ok: false,
      error: /port list/,
    });
  });
});

describe('scan form: the ports placeholder', () => {
  it('says which top ports an empty field scans', () => {
    expect(defaultPortsText(true, false)).toBe('top 1,000 TCP ports');
    expect(defaultPortsText(false, true)).toBe('top UDP ports');
    expect(defaultPortsText(true, true)).toBe('top 1,000 TCP and top UDP ports');
  });
});
