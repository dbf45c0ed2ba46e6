/** The channel form's checks and the bodies it sends: what an admin is told before a round trip. */

import { describe, expect, it } from 'vitest';
import {
  channelBodyOf,
  channelFormOf,
  cleartextLoginWarning,
  EMPTY_CHANNEL_FORM,
  emailPortFor,
  enabledBodyOf,
  isEmailAddress,
  isLoopback,
  parseHeaderLines,
  storedSecretsOf,
  webhookUrlProblem,
  type ChannelForm,
} from './channel-form';
import type { ChannelView } from './notification-types';

function emailForm(
  overrides: Partial<ChannelForm['email']> = {},
  common: Partial<ChannelForm> = {},
): ChannelForm {
  return {
    ...EMPTY_CHANNEL_FORM,
    name: 'SOC mail',
    ...common,
    email: {
      ...EMPTY_CHANNEL_FORM.email,
      host: 'smtp.example.com',
      from: 'flowtrack@example.com',
      to: 'a@example.com, b@example.org',
      ...overrides,
    },
  };
}

function webhookForm(overrides: Partial<ChannelForm['webhook']> = {}): ChannelForm {
  return {
    ...EMPTY_CHANNEL_FORM,
    kind: 'webhook',
    name: 'Slack',
    webhook: {
      ...EMPTY_CHANNEL_FORM.webhook,
      url: 'https://hooks.slack.com/services/T0/B0/xyz',
      ...overrides,
    },
  };
}

function syslogForm(overrides: Partial<ChannelForm['syslog']> = {}): ChannelForm {
  return {
    ...EMPTY_CHANNEL_FORM,
    kind: 'syslog',
    name: 'SIEM',
    syslog: { ...EMPTY_CHANNEL_FORM.syslog, host: '10.0.0.1', ...overrides },
  };
}

const COMMON_VIEW = {
  id: 3,
  name: 'SOC mail',
  enabled: true,
  minSeverity: 'high',
  types: ['port_scan'],
  maxPerWindow: 5,
  windowMinutes: 30,
  createdBy: 'ada',
  createdAt: 0,
  updatedBy: 'ada',
  updatedAt: 0,
  deliveries: { pending: 0, sent: 4, failed: 1 },
} as const;

const EMAIL_VIEW: ChannelView = {
  ...COMMON_VIEW,
  types: ['port_scan'],
  kind: 'email',
  settings: {
    host: 'smtp.example.com',
    port: 587,
    security: 'starttls',
    username: 'mailer',
    passwordSet: true,
    from: 'flowtrack@example.com',
    to: ['a@example.com', 'b@example.org'],
    verifyCertificate: true,
  },
};

const WEBHOOK_VIEW: ChannelView = {
  ...COMMON_VIEW,
  types: [],
  name: 'Slack',
  kind: 'webhook',
  settings: { url: 'https://hooks.slack.com/…', format: 'slack', headers: ['X-Token'] },
};

describe('channel form: a new email channel', () => {
  it('sends the channel with its settings, trimmed, recipients split on commas and spaces', () => {
    const result = channelBodyOf(
      emailForm({ to: ' a@example.com,b@example.org ;c@example.net ', username: ' mailer ', password: 'pw' }),
      null,
    );
    expect(result).toEqual({
      ok: true,
      body: {
        kind: 'email',
        name: 'SOC mail',
        enabled: true,
        minSeverity: 'medium',
        types: [],
        maxPerWindow: 10,
        windowMinutes: 10,
        settings: {
          host: 'smtp.example.com',
          port: 587,
          security: 'starttls',
          username: 'mailer',
          password: 'pw',
          from: 'flowtrack@example.com',
          to: ['a@example.com', 'b@example.org', 'c@example.net'],
          verifyCertificate: true,
        },
      },
    });
  });

  it('leaves a login out when there is none', () => {
    const result = channelBodyOf(emailForm(), null);
    expect(result.ok && result.body.settings).not.toHaveProperty('username');
    expect(result.ok && result.body.settings).not.toHaveProperty('password');
  });

  it('points at every missing or malformed field at once', () => {
    const result = channelBodyOf(
      {
        ...emailForm({ host: '', port: '70000', from: 'not-an-address', to: 'a@example.com, bob' }),
        name: ' ',
        maxPerWindow: '0',
        windowMinutes: '1441',
      },
      null,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual([
      'email.from',
      'email.host',
      'email.port',
      'email.to',
      'maxPerWindow',
      'name',
      'windowMinutes',
    ]);
    expect(result.errors['email.to']).toContain('bob');
    expect(result.errors['email.to']).not.toContain('a@example.com');
  });

  it('wants at least one recipient and a host without a port', () => {
    const result = channelBodyOf(emailForm({ to: ' , ', host: 'smtp.example.com:587' }), null);
    expect(result).toMatchObject({ ok: false, errors: { 'email.to': /recipient/, 'email.host': /port/ } });
  });

  it('takes an IPv6 address as the host, and refuses a port typed into it', () => {
    expect(channelBodyOf(emailForm({ host: 'fd00::25' }), null).ok).toBe(true);
    expect(channelBodyOf(emailForm({ host: 'mail.example.com:587' }), null)).toMatchObject({
      ok: false,
      errors: { 'email.host': /own field/ },
    });
  });

  it('wants a login whole: user name and password together', () => {
    expect(channelBodyOf(emailForm({ username: 'mailer' }), null)).toMatchObject({
      ok: false,
      errors: { 'email.password': /password/ },
    });
    expect(channelBodyOf(emailForm({ password: 'pw' }), null)).toMatchObject({
      ok: false,
      errors: { 'email.username': /user name/ },
    });
  });

  it('refuses a login in clear to another host, and allows it to a relay on this one', () => {
    const clear = emailForm({ security: 'none', port: '25', username: 'mailer', password: 'pw' });
    expect(channelBodyOf(clear, null)).toMatchObject({
      ok: false,
      errors: { 'email.security': /in clear to smtp\.example\.com/ },
    });
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1']) {
      expect(channelBodyOf({ ...clear, email: { ...clear.email, host } }, null).ok, host).toBe(true);
    }
    // Without a login there is no password to leak.
    expect(channelBodyOf(emailForm({ security: 'none', port: '25' }), null).ok).toBe(true);
  });
});

describe('channel form: the clear-text warning while typing', () => {
  it('warns only for security none with a user name to a host other than this one', () => {
    expect(cleartextLoginWarning({ security: 'none', username: 'u', host: 'mail.example.com' })).toMatch(
      /in clear to mail\.example\.com/,
    );
    expect(cleartextLoginWarning({ security: 'none', username: '', host: 'mail.example.com' })).toBeNull();
    expect(
      cleartextLoginWarning({ security: 'starttls', username: 'u', host: 'mail.example.com' }),
    ).toBeNull();
    expect(cleartextLoginWarning({ security: 'none', username: 'u', host: '127.0.0.1' })).toBeNull();
  });

  it('counts as this host exactly localhost, 127.0.0.0/8 and ::1', () => {
    for (const host of ['localhost', '127.0.0.1', '127.255.255.254', '::1'])
      expect(isLoopback(host), host).toBe(true);
    for (const host of [
      '127.example.com',
      '127.0.0',
      '127.0.0.256',
      '10.0.0.1',
      'localhost.example.com',
      '::2',
    ])
      expect(isLoopback(host), host).toBe(false);
  });
});

describe('channel form: editing keeps the stored secrets', () => {
  it('starts from the channel, with the password empty, and sends no password when left so', () => {
    const form = channelFormOf(EMAIL_VIEW);
    expect(form.email).toMatchObject({
      host: 'smtp.example.com',
      username: 'mailer',
      password: '',
      to: 'a@example.com, b@example.org',
    });
    expect(form).toMatchObject({
      minSeverity: 'high',
      types: ['port_scan'],
      maxPerWindow: '5',
      windowMinutes: '30',
    });
    const result = channelBodyOf(form, storedSecretsOf(EMAIL_VIEW));
    expect(result.ok).toBe(true);
    expect(result.ok && result.body.settings).toEqual({
      host: 'smtp.example.com',
      port: 587,
      security: 'starttls',
      username: 'mailer',
      from: 'flowtrack@example.com',
      to: ['a@example.com', 'b@example.org'],
      verifyCertificate: true,
    });
  });

  it('sends a new password when one is typed', () => {
    const form = channelFormOf(EMAIL_VIEW);
    const result = channelBodyOf(
      { ...form, email: { ...form.email, password: 'new' } },
      storedSecretsOf(EMAIL_VIEW),
    );
    expect(result.ok && result.body.settings).toMatchObject({ username: 'mailer', password: 'new' });
  });

  it('says a stored password cannot be removed by clearing the user name', () => {
    const form = channelFormOf(EMAIL_VIEW);
    expect(
      channelBodyOf({ ...form, email: { ...form.email, username: '' } }, storedSecretsOf(EMAIL_VIEW)),
    ).toMatchObject({
      ok: false,
      errors: { 'email.username': /stored/ },
    });
  });

  it('leaves an empty webhook URL and headers out (kept), and needs the URL for a new webhook', () => {
    const form = channelFormOf(WEBHOOK_VIEW);
    expect(form.webhook).toEqual({ url: '', format: 'slack', headers: '' });
    expect(channelBodyOf(form, storedSecretsOf(WEBHOOK_VIEW))).toMatchObject({
      ok: true,
      body: { kind: 'webhook', settings: { format: 'slack' } },
    });
    const result = channelBodyOf(form, storedSecretsOf(WEBHOOK_VIEW));
    expect(result.ok && result.body.settings).toEqual({ format: 'slack' });
    expect(channelBodyOf(form, null)).toMatchObject({ ok: false, errors: { 'webhook.url': /URL/ } });
  });
});

describe('channel form: webhooks', () => {
  it('sends the URL, the format and the headers given as lines', () => {
    expect(
      channelBodyOf(
        webhookForm({ format: 'teams', headers: 'Authorization: Bearer abc\n\n X-Env : prod:eu \n' }),
        null,
      ),
    ).toMatchObject({
      ok: true,
      body: {
        settings: {
          url: 'https://hooks.slack.com/services/T0/B0/xyz',
          format: 'teams',
          headers: { Authorization: 'Bearer abc', 'X-Env': 'prod:eu' },
        },
      },
    });
  });

  it('takes http and https URLs only, without credentials', () => {
    expect(webhookUrlProblem('https://example.com/hook')).toBeNull();
    expect(webhookUrlProblem('http://10.0.0.5:8080/hook')).toBeNull();
    expect(webhookUrlProblem('ftp://example.com/')).toMatch(/https/);
    expect(webhookUrlProblem('example.com/hook')).toMatch(/Not a URL/);
    expect(webhookUrlProblem('https://user:pw@example.com/')).toMatch(/header/);
    expect(channelBodyOf(webhookForm({ url: 'javascript:alert(1)' }), null)).toMatchObject({
      ok: false,
      errors: { 'webhook.url': /https/ },
    });
  });

  it('reads header lines, refusing a malformed line or a name given twice', () => {
    expect(parseHeaderLines('')).toEqual({ ok: true, headers: null });
    expect(parseHeaderLines('  \n')).toEqual({ ok: true, headers: null });
    expect(parseHeaderLines('X-A: 1\nX-B:')).toEqual({ ok: true, headers: { 'X-A': '1', 'X-B': '' } });
    expect(parseHeaderLines('X-A 1')).toMatchObject({ ok: false, error: /Line 1/ });
    expect(parseHeaderLines('X-A: 1\nBad Name: 2')).toMatchObject({ ok: false, error: /Line 2/ });
    expect(parseHeaderLines('X-A: 1\nx-a: 2')).toMatchObject({ ok: false, error: /twice/ });
  });
});

describe('channel form: syslog', () => {
  it('sends the host, an empty port as the default, and the choices', () => {
    expect(
      channelBodyOf(syslogForm({ transport: 'tls', facility: 'local3', msgFormat: 'cef' }), null),
    ).toMatchObject({
      ok: true,
      body: {
        kind: 'syslog',
        settings: {
          host: '10.0.0.1',
          transport: 'tls',
          facility: 'local3',
          msgFormat: 'cef',
          verifyCertificate: true,
        },
      },
    });
    const result = channelBodyOf(syslogForm({ port: '1514', appName: 'ft' }), null);
    expect(result.ok && result.body.settings).toMatchObject({ port: 1514, appName: 'ft' });
    const noPort = channelBodyOf(syslogForm(), null);
    expect(noPort.ok && noPort.body.settings).not.toHaveProperty('port');
  });

  it('refuses a port out of range and an app name with spaces', () => {
    for (const port of ['0', '65536', 'abc', '5.5']) {
      expect(channelBodyOf(syslogForm({ port }), null), port).toMatchObject({
        ok: false,
        errors: { 'syslog.port': /port/ },
      });
    }
    expect(channelBodyOf(syslogForm({ appName: 'flow track' }), null)).toMatchObject({
      ok: false,
      errors: { 'syslog.appName': /spaces/ },
    });
  });
});

describe('channel form: switching a channel on or off', () => {
  it('sends the channel as it is with only `enabled` changed and no secret or view-only field', () => {
    expect(enabledBodyOf(EMAIL_VIEW, false)).toEqual({
      kind: 'email',
      name: 'SOC mail',
      enabled: false,
      minSeverity: 'high',
      types: ['port_scan'],
      maxPerWindow: 5,
      windowMinutes: 30,
      settings: {
        host: 'smtp.example.com',
        port: 587,
        security: 'starttls',
        username: 'mailer',
        from: 'flowtrack@example.com',
        to: ['a@example.com', 'b@example.org'],
        verifyCertificate: true,
      },
    });
    expect(enabledBodyOf(WEBHOOK_VIEW, true).settings).toEqual({ format: 'slack' });
  });
});

describe('channel form: small helpers', () => {
  it('accepts the addresses the server accepts', () => {
    for (const ok of ['a@example.com', 'first.last+tag@mail.example.co.uk', "o'neil@example.org"])
      expect(isEmailAddress(ok), ok).toBe(true);
    for (const bad of ['a@localhost', 'a@@example.com', '.a@example.com', 'a b@example.com', 'a@example'])
      expect(isEmailAddress(bad), bad).toBe(false);
  });

  it('moves the port with the security mode unless it was typed by hand', () => {
    expect(emailPortFor('tls', '587')).toBe('465');
    expect(emailPortFor('starttls', '465')).toBe('587');
    expect(emailPortFor('none', '587')).toBe('25');
    expect(emailPortFor('tls', '2525')).toBe('2525');
  });
});
