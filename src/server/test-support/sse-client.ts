import { expect } from 'vitest';

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
}

export interface ChangeData {
  type: string;
  path: string;
  variant?: string;
  version?: number;
  revision: number;
  user?: string;
  timestamp: string;
}

/**
 * A Server-Sent Events reader over fetch, for tests of `/api/v1/watch`: frames are read on
 * demand, never waited for by time. `close()` aborts the request.
 */
export class SseClient {
  readonly response: Response;
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly controller: AbortController;

  private constructor(reader: ReadableStreamDefaultReader<Uint8Array>, controller: AbortController, response: Response) {
    this.reader = reader;
    this.controller = controller;
    this.response = response;
  }

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const controller = new AbortController();
    const response = await fetch(url, { headers, signal: controller.signal });
    if (!response.body) throw new Error('no body');
    return new SseClient(response.body.getReader(), controller, response);
  }

  /** The next complete frame (comments and `retry:`-only frames skipped). */
  async frame(): Promise<SseFrame> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end !== -1) {
        const raw = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const frame: SseFrame = {};
        for (const line of raw.split('\n')) {
          const colon = line.indexOf(':');
          if (colon <= 0) continue;
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id' || field === 'event' || field === 'data') frame[field] = value;
        }
        if (frame.event !== undefined || frame.data !== undefined) return frame;
        continue;
      }
      const { value, done } = await this.reader.read();
      if (done) throw new Error(`stream ended; pending: ${JSON.stringify(this.buffer)}`);
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** The next `change` event, checking that its SSE id is its revision. */
  async change(): Promise<ChangeData> {
    const frame = await this.frame();
    expect(frame.event, JSON.stringify(frame)).toBe('change');
    const data = JSON.parse(frame.data ?? '') as ChangeData;
    expect(frame.id).toBe(String(data.revision));
    return data;
  }

  async expectEvent(event: string): Promise<unknown> {
    const frame = await this.frame();
    expect(frame.event, JSON.stringify(frame)).toBe(event);
    return JSON.parse(frame.data ?? '') as unknown;
  }

  close(): void {
    this.controller.abort();
  }
}
