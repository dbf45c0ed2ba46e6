import { describe, expect, it } from 'vitest';
import {
  composeEmail,
  EmailNotifier,
  escapeHtml,
  toNotifyError,
  type OutgoingEmail,
  type SmtpTransport,
} from './email-notifier.js';
import type { Notification } from './notifier.js';

const server = { host: 'smtp.example.net', port: 587 };
const options = {
  ...server,
  security: 'starttls' as const,
  auth: { user: 'ft', password: 'hunter2-secret' },
  from: 'alerts@example.net',
  to: ['soc@example.net'],
};

const test: Notification = {
  id: 'n-1',
  kind: 'test',
  title: 'Test\r\nBcc: victim@example.org',
  text: 'If you can read this, email works.',
  link: 'javascript:alert(1)',
  at: 0,
  host: 'sensor-1',
};

/** An SMTP error as nodemailer shapes it. */
function smtpError(code: string, responseCode?: number, originalCode?: string): Error {
  return Object.assign(new Error(`failed ${code}`), { code, responseCode, originalCode });
}

/** A transport that records messages and answers from a script. */
function fakeTransport(answer: () => Promise<{ rejected: string[] }>) {
  const sent: OutgoingEmail[] = [];
  let closed = false;
  const transport: SmtpTransport = {
    sendMail(message) {
      sent.push(message);
      return answer();
    },
    close() {
      closed = true;
    },
  };
  return { transport, sent, isClosed: () => closed };
}

describe('composeEmail', () => {
  it('keeps a title on one line, so it cannot add a header', () => {
    const mail = composeEmail(test, options);
    expect(mail.subject).toBe('[FlowTrack] Test Bcc: victim@example.org');
  });

  it('links only web addresses in the HTML part', () => {
    const mail = composeEmail(test, options);
    expect(mail.html).not.toContain('href');
    expect(mail.html).toContain('Link: javascript:alert(1)');
    const web = composeEmail({ ...test, link: 'https://ft.example.net/a?x=1&y="2"' }, options);
    expect(web.html).toContain('<a href="https://ft.example.net/a?x=1&amp;y=&quot;2&quot;">');
  });

  it('derives a valid Message-ID from any id, the same every time', () => {
    const odd = { ...test, id: 'a b<c>@d' };
    const first = composeEmail(odd, options).messageId;
    expect(first).toMatch(/^<flowtrack\.h\.[0-9a-f]{40}@example\.net>$/);
    expect(composeEmail(odd, options).messageId).toBe(first);
    expect(composeEmail(test, { ...options, from: 'no-domain' }).messageId).toBe(
      '<flowtrack.n-1@flowtrack.invalid>',
    );
  });

  it('lists a digest by severity, most severe first, unknown severities last', () => {
    const mail = composeEmail(
      {
        ...test,
        kind: 'digest',
        digest: {
          count: 5,
          fromMs: 0,
          toMs: 60_000,
          byType: {},
          bySeverity: { low: 1, weird: 1, critical: 3 },
          examples: [],
        },
      },
      options,
    );
    expect(mail.text).toMatch(/By severity:\n\s+critical:\s+3\n\s+low:\s+1\n\s+weird:\s+1/);
  });
});

describe('escapeHtml', () => {
  it('escapes markup and both quotes', () => {
    expect(escapeHtml(`<a href='x'>"&"</a>`)).toBe('&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;');
  });
});

describe('toNotifyError', () => {
  it.each([
    ['a refused login', smtpError('EAUTH', 535), false],
    ['a temporary login failure (454)', smtpError('EAUTH', 454), true],
    ['missing credentials', smtpError('ENOAUTH'), false],
    ['a refused recipient (550)', smtpError('EENVELOPE', 550), false],
    ['a greylisted recipient (451)', smtpError('EENVELOPE', 451), true],
    ['a full mailbox store (452)', smtpError('EMESSAGE', 452), true],
    ['a message too big (552)', smtpError('EMESSAGE', 552), false],
    ['a server shutting down (421)', smtpError('ECONNECTION', 421), true],
    ['a refused connection', smtpError('ESOCKET', undefined, 'ECONNREFUSED'), true],
    ['a timeout', smtpError('ETIMEDOUT'), true],
    ['an expired certificate', smtpError('ESOCKET', undefined, 'CERT_HAS_EXPIRED'), false],
    ['a failed TLS set-up', smtpError('ETLS'), false],
    ['a cancelled send', smtpError('EABORT'), true],
    ['something thrown that is not an Error', 'boom', true],
  ] as const)('%s → retryable %s', (_what, err, retryable) => {
    expect(toNotifyError(err, server, []).retryable).toBe(retryable);
  });

  it('cuts the password and its AUTH PLAIN form out of the message and the cause', () => {
    const plain = Buffer.from('\u0000ft\u0000hunter2-secret').toString('base64');
    const err = Object.assign(new Error(`535 bad ${plain} or hunter2-secret`), {
      code: 'EAUTH',
      responseCode: 535,
      response: `535 bad ${plain}`,
    });
    const secrets = ['hunter2-secret', plain];
    const notifyError = toNotifyError(err, server, secrets);
    const cause = notifyError.cause as Error & { response?: string; code?: string };
    for (const text of [notifyError.message, cause.message, cause.stack ?? '', cause.response]) {
      expect(text).not.toContain('hunter2-secret');
      expect(text).not.toContain(plain);
    }
    expect(cause.code).toBe('EAUTH');
  });
});

describe('EmailNotifier', () => {
  it('fails for good when some recipients were refused, as the others already have it', async () => {
    const { transport } = fakeTransport(() => Promise.resolve({ rejected: ['gone@example.net'] }));
    const notifier = new EmailNotifier(
      { ...options, to: ['soc@example.net', 'gone@example.net'] },
      transport,
    );
    await expect(notifier.send(test)).rejects.toMatchObject({
      name: 'NotifyError',
      retryable: false,
      message: expect.stringContaining('gone@example.net') as unknown,
    });
  });

  it('lets a send under way finish before closing, and refuses sends after', async () => {
    let finish = (): void => undefined;
    const { transport, isClosed } = fakeTransport(
      () => new Promise((resolve) => (finish = () => resolve({ rejected: [] }))),
    );
    const notifier = new EmailNotifier(options, transport);
    const sending = notifier.send(test);
    const closing = notifier.close();
    await Promise.resolve();
    expect(isClosed()).toBe(false);
    finish();
    await sending;
    await closing;
    expect(isClosed()).toBe(true);
    await expect(notifier.send(test)).rejects.toMatchObject({ retryable: false });
  });
});
