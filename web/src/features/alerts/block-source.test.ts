import { describe, expect, it } from 'vitest';
import { BLOCK_DURATIONS, blockComment, blockRuleBody, MAX_COMMENT_LENGTH } from './block-source';

describe('block source', () => {
  const alert = {
    id: 'port_scan-7',
    src: '192.0.2.7',
    summary: '192.0.2.7 probed 812 ports of 198.51.100.1',
  };

  it('asks for a block of the source with the alert named in the comment and the chosen expiry', () => {
    expect(blockRuleBody(alert, 3600)).toEqual({
      kind: 'block',
      source: '192.0.2.7',
      comment: 'from alert port_scan-7: 192.0.2.7 probed 812 ports of 198.51.100.1',
      alertId: 'port_scan-7',
      expiresInSeconds: 3600,
    });
  });

  it('sends no expiry for a permanent block', () => {
    expect(blockRuleBody(alert, null)).not.toHaveProperty('expiresInSeconds');
    expect(BLOCK_DURATIONS.map((d) => d.seconds)).toEqual([600, 3600, 86_400, null]);
  });

  it('cuts a long summary so the comment fits the API, and says it was cut', () => {
    const comment = blockComment('ddos-1', 'x'.repeat(500));
    expect(comment).toHaveLength(MAX_COMMENT_LENGTH);
    expect(comment.startsWith('from alert ddos-1: xxx')).toBe(true);
    expect(comment.endsWith('x…')).toBe(true);
  });

  it('never cuts a character in half', () => {
    const prefix = 'from alert a-1: ';
    const summary = 'y'.repeat(MAX_COMMENT_LENGTH - 2 - prefix.length) + '🔥🔥🔥';
    const comment = blockComment('a-1', summary);
    expect(comment.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH);
    expect(comment.endsWith('y…')).toBe(true);
  });
});
