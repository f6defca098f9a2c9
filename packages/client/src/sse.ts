/** One Server-Sent Events message. */
export interface SseMessage {
  /** the `id:` field (for Errand: the event's stream sequence); undefined when the message had none */
  id: string | undefined;
  /** the `event:` field, `message` by default */
  event: string;
  data: string;
  /** a `retry:` the server asked for, in ms */
  retry?: number;
}

/**
 * An incremental SSE parser (the WHATWG event-stream rules): feed it text
 * chunks cut anywhere, it calls `onMessage` per complete message. Comments
 * (`: keep-alive`) are skipped; a message without data is not dispatched.
 */
export class SseParser {
  private buf = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  private retry: number | undefined;
  private sawField = false;
  /** the last `id:` seen, kept across messages as the spec says: what Last-Event-ID resumes from */
  lastEventId: string | undefined;

  constructor(private readonly onMessage: (m: SseMessage) => void) {}

  feed(chunk: string): void {
    this.feedLines(chunk);
  }

  private feedLines(chunk: string): void {
    this.buf += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // a lone \r at the end may be the first half of \r\n: wait for more
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  /** The stream ended: a message not closed by a blank line is dropped, as the spec says. */
  end(): void {
    // a CR held back as a possible half of CRLF was a line end after all
    if (this.buf.endsWith('\r')) {
      const rest = this.buf.slice(0, -1);
      this.buf = '';
      this.feedLines(`${rest}\n`);
    }
    this.buf = '';
    this.reset();
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) return;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        this.sawField = true;
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.id = value;
          this.lastEventId = value;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    if (this.sawField) {
      const msg: SseMessage = { id: this.id, event: this.event || 'message', data: this.data.join('\n') };
      if (this.retry !== undefined) msg.retry = this.retry;
      this.reset();
      this.onMessage(msg);
      return;
    }
    this.reset();
  }

  private reset(): void {
    this.data = [];
    this.event = '';
    this.id = undefined;
    this.retry = undefined;
    this.sawField = false;
  }
}

/** Parse a byte stream (a fetch body) into SSE messages. */
export async function* readSse(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const queue: SseMessage[] = [];
  const parser = new SseParser((m) => queue.push(m));
  const decoder = new TextDecoder();
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    while (queue.length) yield queue.shift()!;
  }
  parser.feed(decoder.decode());
  parser.end();
  while (queue.length) yield queue.shift()!;
}
