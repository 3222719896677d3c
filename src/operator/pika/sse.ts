/**
 * A small Server-Sent Events parser (the change feed, SPEC §4): feeds text chunks, yields
 * `{id, event, data}` for each complete event. Comments (heartbeats) and `retry:` are skipped.
 */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

export function createSseParser(onEvent: (event: SseEvent) => void) {
  let buffer = '';
  let id: string | undefined;
  let event = 'message';
  let data: string[] = [];

  function line(text: string): void {
    if (text === '') {
      if (data.length > 0) onEvent({ id, event, data: data.join('\n') });
      event = 'message';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    const value = colon === -1 ? '' : text.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
  }

  return {
    push(chunk: string): void {
      buffer += chunk;
      let newline = buffer.search(/\r?\n/);
      while (newline !== -1) {
        const text = buffer.slice(0, newline);
        buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1);
        line(text);
        newline = buffer.search(/\r?\n/);
      }
    },
  };
}
