import { describe, expect, it } from 'vitest';
import { readSse, SseParser, type SseMessage } from './sse.ts';

function parseAll(chunks: string[]): { messages: SseMessage[]; parser: SseParser } {
  const messages: SseMessage[] = [];
  const parser = new SseParser((m) => messages.push(m));
  for (const c of chunks) parser.feed(c);
  parser.end();
  return { messages, parser };
}

describe('SseParser', () => {
  it('parses id, event and data of each message', () => {
    const { messages, parser } = parseAll(['id: 7\nevent: queued\ndata: {"a":1}\n\nid: 8\nevent: started\ndata: {"b":2}\n\n']);
    expect(messages).toEqual([
      { id: '7', event: 'queued', data: '{"a":1}' },
      { id: '8', event: 'started', data: '{"b":2}' },
    ]);
    expect(parser.lastEventId).toBe('8');
  });

  it('joins multi-line data, defaults the event to message, skips comments', () => {
    const { messages } = parseAll([': keep-alive\n\ndata: one\ndata:two\n\n']);
    expect(messages).toEqual([{ id: undefined, event: 'message', data: 'one\ntwo' }]);
  });

  it('handles chunks cut anywhere, CRLF and CR line ends', () => {
    const text = 'id: 1\r\nevent: progress\r\ndata: {"percent":40}\r\n\r\nid: 2\revent: completed\rdata: {}\r\r';
    const whole = parseAll([text]).messages;
    for (let cut = 1; cut < text.length; cut++) {
      expect(parseAll([text.slice(0, cut), text.slice(cut)]).messages).toEqual(whole);
    }
    expect(whole.map((m) => m.id)).toEqual(['1', '2']);
  });

  it('drops a message the stream cut before its blank line, and one with no data', () => {
    const { messages } = parseAll(['event: x\n\nid: 3\ndata: {"half":']);
    expect(messages).toEqual([]);
  });

  it('reads retry and ignores unknown fields and ids with NUL', () => {
    const { messages, parser } = parseAll(['retry: 2500\nfoo: bar\nid: a\0b\ndata: x\n\n']);
    expect(messages).toEqual([{ id: undefined, event: 'message', data: 'x', retry: 2500 }]);
    expect(parser.lastEventId).toBeUndefined();
  });
});

describe('readSse', () => {
  it('parses a byte stream with multi-byte characters split across chunks', async () => {
    const bytes = new TextEncoder().encode('id: 1\nevent: progress\ndata: {"message":"größer €"}\n\n');
    const chunks = [bytes.slice(0, 40), bytes.slice(40, 41), bytes.slice(41)];
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(ch);
        c.close();
      },
    });
    const out: SseMessage[] = [];
    for await (const m of readSse(stream)) out.push(m);
    expect(out).toEqual([{ id: '1', event: 'progress', data: '{"message":"größer €"}' }]);
  });
});
