/** The Notifications page's wording of channels and deliveries, in a fixed time zone and clock. */

import { describe, expect, it } from 'vitest';
import {
  channelNameOf,
  deliveryNextText,
  minSeverityText,
  rateLimitText,
  targetSummary,
  testResultText,
  typesText,
} from './channel-format';
import type { ChannelView } from './notification-types';

const COMMON = {
  id: 1,
  name: 'c',
  enabled: true,
  minSeverity: 'medium',
  types: [],
  maxPerWindow: 10,
  windowMinutes: 10,
  createdBy: 'ada',
  createdAt: 0,
  updatedBy: 'ada',
  updatedAt: 0,
  deliveries: { pending: 0, sent: 0, failed: 0 },
} as const;

const NOW = Date.UTC(2025, 5, 15, 12, 0, 0);

describe('channel wording', () => {
  it('says the rate limit per its window', () => {
    expect(rateLimitText(10, 10)).toBe('10 per 10 min');
    expect(rateLimitText(1, 1)).toBe('1 per minute');
    expect(rateLimitText(100, 60)).toBe('100 per hour');
    expect(rateLimitText(500, 360)).toBe('500 per 6 h');
    expect(rateLimitText(1000, 1440)).toBe('1000 per day');
    expect(rateLimitText(3, 90)).toBe('3 per 90 min');
  });

  it('says where each kind sends', () => {
    const email: ChannelView = {
      ...COMMON,
      types: [],
      kind: 'email',
      settings: {
        host: 'smtp.example.com',
        port: 587,
        security: 'starttls',
        passwordSet: false,
        from: 'f@example.com',
        to: ['a@x.example', 'b@y.example'],
        verifyCertificate: true,
      },
    };
    expect(targetSummary(email)).toBe('smtp.example.com:587 (starttls) → a@x.example, b@y.example');
    const webhook: ChannelView = {
      ...COMMON,
      types: [],
      kind: 'webhook',
      settings: { url: 'https://hooks.slack.com/…', format: 'slack', headers: [] },
    };
    expect(targetSummary(webhook)).toBe('https://hooks.slack.com/… (slack)');
    const syslog: ChannelView = {
      ...COMMON,
      types: [],
      kind: 'syslog',
      settings: {
        host: '10.0.0.1',
        transport: 'udp',
        facility: 'local0',
        msgFormat: 'text',
        verifyCertificate: true,
      },
    };
    expect(targetSummary(syslog)).toBe('udp syslog 10.0.0.1:514');
    expect(
      targetSummary({ ...syslog, settings: { ...syslog.settings, transport: 'tls', host: 'fd00::5' } }),
    ).toBe('tls syslog [fd00::5]:6514');
    expect(targetSummary({ ...syslog, settings: { ...syslog.settings, port: 1514, msgFormat: 'cef' } })).toBe(
      'udp syslog 10.0.0.1:1514 (CEF)',
    );
  });

  it('says which alerts a channel takes', () => {
    expect(typesText([])).toBe('all types');
    expect(typesText(['port_scan', 'ddos'])).toBe('port_scan, ddos');
    expect(minSeverityText('high')).toBe('high and above');
    expect(minSeverityText('info')).toBe('all');
    expect(minSeverityText('critical')).toBe('critical only');
  });

  it('names a delivery’s channel, or says it was deleted', () => {
    const channels = [{ id: 1, name: 'SOC mail' }];
    expect(channelNameOf(1, channels)).toBe('SOC mail');
    expect(channelNameOf(9, channels)).toBe('channel 9 (deleted)');
  });
});

describe('delivery wording', () => {
  it('says when a pending delivery is tried next', () => {
    const pending = { status: 'pending', sentAt: null } as const;
    expect(deliveryNextText({ ...pending, nextAttemptAt: NOW - 1 }, NOW, 'UTC')).toBe('due now');
    expect(deliveryNextText({ ...pending, nextAttemptAt: NOW + 40_000 }, NOW, 'UTC')).toBe(
      'in 40 s (2025-06-15 12:00:40)',
    );
    expect(deliveryNextText({ ...pending, nextAttemptAt: NOW + 125 * 60_000 }, NOW, 'UTC')).toBe(
      'in 2 h 5 min (2025-06-15 14:05:00)',
    );
  });

  it('says when a delivery went, or that it was given up', () => {
    expect(deliveryNextText({ status: 'sent', sentAt: NOW, nextAttemptAt: 0 }, NOW, 'UTC')).toBe(
      'sent 2025-06-15 12:00:00',
    );
    expect(deliveryNextText({ status: 'failed', sentAt: null, nextAttemptAt: NOW }, NOW, 'UTC')).toBe(
      'given up',
    );
  });

  it('says what a test did: sent, the error, or a queued retry', () => {
    expect(testResultText({ status: 'sent' })).toBe('Sent');
    expect(testResultText({ status: 'failed', error: 'connect ECONNREFUSED 10.0.0.1:587' })).toBe(
      'connect ECONNREFUSED 10.0.0.1:587',
    );
    expect(testResultText({ status: 'pending', error: 'timeout' })).toBe(
      'Not sent yet: timeout (a retry is queued)',
    );
  });
});
