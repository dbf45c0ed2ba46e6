/**
 * An incremental parser of server-sent events (the WHATWG HTML "event stream" format), for a
 * stream read with fetch: EventSource cannot send the Authorization header /api/stream needs.
 * Text goes in as it arrives, cut anywhere; whole events come out. Pure: no DOM, no I/O.
 */

export interface ServerSentEvent {
  /** The `event:` field, or 'message' when there was none. */
  type: string;
  /** The `data:` lines joined with newlines. */
  data: string;
  /** The last `id:` seen, if any. */
  id?: string;
}

export class SseParser {
  private pending = '';
  private started = false;
  private type = '';
  private data: string[] = [];
  private lastId: string | undefined;

  /** Parses the next piece of the stream; returns the events it completed. */
  push(text: string): ServerSentEvent[] {
    let input = this.pending + text;
    if (!this.started && input.length > 0) {
      this.started = true;
      // A byte-order mark may open the stream and is not part of the first field.
      if (input.startsWith('\uFEFF')) input = input.slice(1);
    }
    const events: ServerSentEvent[] = [];
    let lineStart = 0;
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A CR at the very end may be the first half of a CRLF cut between two reads: wait for more.
      if (c === 13 && i === input.length - 1) break;
      this.line(input.slice(lineStart, i), events);
      if (c === 13 && input.charCodeAt(i + 1) === 10) i++;
      lineStart = i + 1;
    }
    this.pending = input.slice(lineStart);
    return events;
  }

  private line(line: string, events: ServerSentEvent[]): void {
    if (line === '') {
      this.dispatch(events);
      return;
    }
    if (line.startsWith(':')) return; // a comment: the server's heartbeat
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.type = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        // `retry` and unknown fields: the reconnection policy is the caller's.
        break;
    }
  }

  private dispatch(events: ServerSentEvent[]): void {
    if (this.data.length > 0) {
      events.push({
        type: this.type === '' ? 'message' : this.type,
        data: this.data.join('\n'),
        ...(this.lastId === undefined ? {} : { id: this.lastId }),
      });
    }
    this.type = '';
    this.data = [];
  }
}
