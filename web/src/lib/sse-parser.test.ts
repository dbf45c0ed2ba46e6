import { describe, expect, it } from 'vitest';
import { SseParser, type ServerSentEvent } from './sse-parser';

/** The stream as /api/stream writes it (src/api/routes/stream-routes.ts). */
const STREAM =
  ': FlowTrack live feed\n\n' +
  'event: rates\ndata: {"type":"rates","at":1000,"flowsPerSecond":2,"packetsPerSecond":30,"bytesPerSecond":4000}\n\n' +
  ': heartbeat\n\n' +
  'event: alert\ndata: {"id":"port_scan-1","severity":"high"}\n\n';

function parseAll(parser: SseParser, chunks: string[]): ServerSentEvent[] {
  return chunks.flatMap((chunk) => parser.push(chunk));
}

describe('SseParser', () => {
  it("reads the server's events and skips its comments and heartbeats", () => {
    const events = new SseParser().push(STREAM);
    expect(events.map((e) => e.type)).toEqual(['rates', 'alert']);
    expect(JSON.parse(events[0]!.data)).toMatchObject({ packetsPerSecond: 30 });
  });

  it('gives the same events however the stream is cut between reads', () => {
    const whole = new SseParser().push(STREAM);
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.slice(i, i + size));
      expect(parseAll(new SseParser(), chunks)).toEqual(whole);
    }
  });

  it('holds an event back until its blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.push('event: rates\ndata: {"a":1}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ type: 'rates', data: '{"a":1}' }]);
  });

  it('accepts CRLF and CR line ends, also with a CRLF cut in two', () => {
    const crOnly = new SseParser();
    expect(crOnly.push('data: x\r\n\r\ndata: y\r\r')).toEqual([{ type: 'message', data: 'x' }]);
    // A CR that ends a read may be half a CRLF: it counts once the next byte shows it is not.
    expect(crOnly.push(': heartbeat\r')).toEqual([{ type: 'message', data: 'y' }]);
    const parser = new SseParser();
    expect(parseAll(parser, ['data: a\r', '\n\r', '\ndata: b\n\n'])).toEqual([
      { type: 'message', data: 'a' },
      { type: 'message', data: 'b' },
    ]);
  });

  it('joins data lines, strips one space after the colon, keeps the last id and ignores the rest', () => {
    const events = new SseParser().push(
      '\uFEFFid: 7\nevent: note\ndata:first\ndata:  second\nretry: 500\nbogus: 1\n\n' + 'data\n\n',
    );
    expect(events).toEqual([
      { type: 'note', data: 'first\n second', id: '7' },
      { type: 'message', data: '', id: '7' },
    ]);
  });

  it('sends nothing for an event without data, and resets the type after each event', () => {
    expect(new SseParser().push('event: empty\n\ndata: z\n\n')).toEqual([{ type: 'message', data: 'z' }]);
  });
});
