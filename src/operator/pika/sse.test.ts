import { describe, expect, it } from 'vitest';
import { createSseParser, type SseEvent } from './sse.ts';

describe('SSE parser', () => {
  it('parses events split across chunks, skips comments and keeps the last id', () => {
    const events: SseEvent[] = [];
    const p = createSseParser((e) => events.push(e));
    p.push('retry: 2000\n\n: ping\n\nid: 1\nevent: change\ndata: {"a"');
    p.push(':1}\n\nid: 2\r\nevent: change\r\ndata: x\r\ndata: y\r\n\r\nevent: ready\ndata: {}\n\n');
    expect(events).toEqual([
      { id: '1', event: 'change', data: '{"a":1}' },
      { id: '2', event: 'change', data: 'x\ny' },
      { id: '2', event: 'ready', data: '{}' },
    ]);
  });
});
