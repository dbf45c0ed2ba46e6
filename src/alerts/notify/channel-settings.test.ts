import { describe, expect, it } from 'vitest';
import { checkChannelSettings, publicChannelSettings } from './channel-settings.js';

const email = {
  host: 'smtp.example.net',
  username: 'flowtrack',
  password: 'pw-1',
  from: 'flowtrack@example.net',
  to: ['soc@example.net'],
};

describe('checkChannelSettings', () => {
  it('fills the defaults of each kind', () => {
    expect(checkChannelSettings('email', email)).toEqual({
      ...email,
      port: 587,
      security: 'starttls',
      verifyCertificate: true,
    });
    expect(checkChannelSettings('syslog', { host: '192.0.2.1' })).toEqual({
      host: '192.0.2.1',
      transport: 'udp',
      facility: 'local0',
      msgFormat: 'text',
      verifyCertificate: true,
    });
    expect(checkChannelSettings('webhook', { url: 'https://hooks.example.net/x' })).toEqual({
      url: 'https://hooks.example.net/x',
      format: 'json',
    });
  });

  it('refuses a password sent in clear to another host, but not to a relay on this host', () => {
    expect(() => checkChannelSettings('email', { ...email, security: 'none', port: 25 })).toThrow(
      /security none would send the password in clear to smtp\.example\.net/,
    );
    for (const host of ['127.0.0.1', 'localhost', '::1']) {
      expect(checkChannelSettings('email', { ...email, host, security: 'none', port: 25 })).toMatchObject({
        host,
      });
    }
    const anonymous = { ...email, username: undefined, password: undefined };
    expect(checkChannelSettings('email', { ...anonymous, security: 'none' })).toMatchObject({
      security: 'none',
    });
  });

  it('names the field that is wrong', () => {
    expect(() => checkChannelSettings('email', { ...email, to: ['not an address'] })).toThrow(/field to\.0/);
    expect(() => checkChannelSettings('email', { ...email, password: undefined })).toThrow(
      /both username and password/,
    );
    expect(() => checkChannelSettings('syslog', { host: 'a b' })).toThrow(/field host/);
    expect(() => checkChannelSettings('syslog', { host: 'x', transport: 'sctp' })).toThrow(/field transport/);
    expect(() => checkChannelSettings('webhook', { url: 'ftp://x/y' })).toThrow(/field url/);
    expect(() => checkChannelSettings('webhook', { url: 'https://u:p@x/y' })).toThrow(
      /credentials in the URL/,
    );
    expect(() => checkChannelSettings('webhook', {})).toThrow(/url: the URL to POST to is required/);
    expect(() => checkChannelSettings('webhook', { url: 'https://x/y', extra: 1 })).toThrow(
      /webhook settings/,
    );
  });

  it('keeps the stored secrets an update leaves out', () => {
    const stored = checkChannelSettings('webhook', {
      url: 'https://hooks.example.net/T/SECRET',
      headers: { Authorization: 'Bearer s' },
    });
    expect(checkChannelSettings('webhook', { format: 'slack' }, stored)).toEqual({
      ...stored,
      format: 'slack',
    });
    const storedMail = checkChannelSettings('email', email);
    const withoutPassword = { ...email, password: undefined };
    expect(
      checkChannelSettings('email', { ...withoutPassword, port: 465, security: 'tls' }, storedMail),
    ).toMatchObject({
      password: 'pw-1',
      port: 465,
    });
  });
});

describe('checkChannelSettings, removing a login', () => {
  it('drops the stored password when the user name is taken away', () => {
    const stored = checkChannelSettings('email', email);
    const edited = checkChannelSettings(
      'email',
      { ...email, username: undefined, password: undefined },
      stored,
    );
    expect(edited.password).toBeUndefined();
    expect(edited.username).toBeUndefined();
  });
});

describe('publicChannelSettings', () => {
  it('shows no secret', () => {
    const shown = publicChannelSettings('webhook', {
      url: 'https://hooks.slack.com/services/T0/B0/SECRET?x=SECRET',
      format: 'slack',
      headers: { 'X-Token': 'SECRET' },
    });
    expect(shown).toEqual({ url: 'https://hooks.slack.com/…', format: 'slack', headers: ['X-Token'] });
    const mail = publicChannelSettings('email', checkChannelSettings('email', email));
    expect(mail).toMatchObject({ passwordSet: true, username: 'flowtrack' });
    expect(JSON.stringify(mail)).not.toContain('pw-1');
  });
});
