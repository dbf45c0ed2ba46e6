import { describe, expect, it } from 'vitest';
import { closeComment, closePortBody, MAX_COMMENT_LENGTH, portKey } from './close-port';

const SCAN = '0f8e2c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b';

describe('close port', () => {
  it("asks for a close rule of the finding's port, naming the scan and the finding", () => {
    expect(
      closePortBody(SCAN, { protocol: 'tcp', port: 6379, title: 'Redis answers without authentication' }),
    ).toEqual({
      kind: 'close',
      protocol: 'tcp',
      port: 6379,
      comment: `scan ${SCAN}: Redis answers without authentication`,
    });
    expect(closePortBody(SCAN, { protocol: 'udp', port: 161, title: 'SNMP answers' })).toMatchObject({
      protocol: 'udp',
      port: 161,
    });
  });

  it('cuts a long title so the comment fits the API, and says it was cut', () => {
    const comment = closeComment(SCAN, 'x'.repeat(500));
    expect(comment).toHaveLength(MAX_COMMENT_LENGTH);
    expect(comment.startsWith(`scan ${SCAN}: xxx`)).toBe(true);
    expect(comment.endsWith('x…')).toBe(true);
  });

  it('never cuts a character in half', () => {
    const prefix = `scan ${SCAN}: `;
    const title = 'y'.repeat(MAX_COMMENT_LENGTH - 2 - prefix.length) + '🔥🔥🔥';
    const comment = closeComment(SCAN, title);
    expect(comment.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH);
    expect(comment.endsWith('y…')).toBe(true);
  });

  it('takes the same port on two addresses for one rule, and TCP and UDP for two', () => {
    expect(portKey({ protocol: 'tcp', port: 53 })).toBe(portKey({ protocol: 'tcp', port: 53 }));
    expect(portKey({ protocol: 'tcp', port: 53 })).not.toBe(portKey({ protocol: 'udp', port: 53 }));
  });
});
