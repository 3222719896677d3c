import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import { fileKeyOf } from '../../domain/config-path.ts';
import { requireCap } from '../../plugins/auth.ts';
import type { ChangeEvent, ChangeFeed } from '../../services/configs/change-feed.ts';
import { errors } from '../common-schemas.ts';

const WatchQuery = Type.Object(
  { prefix: Type.Optional(Type.String({ maxLength: 4096 })), since: Type.Optional(Type.Integer({ minimum: 0 })) },
  { additionalProperties: false },
);

export interface WatchRouteDeps {
  readonly feed: Pick<ChangeFeed, 'since' | 'subscribe' | 'current'> & Partial<Pick<ChangeFeed, 'onReset'>>;
  readonly heartbeatMs?: number;
  /** Events read from the store per replay step; a resume replays page after page. */
  readonly replayPageSize?: number;
}

/**
 * `GET /api/v1/watch` (SPEC §4): a Server-Sent Events stream of config changes the caller may
 * read. Resumable: `Last-Event-ID` (or `?since=`) replays what was missed; when that is no longer
 * possible the stream starts with a `reset` event so the client re-reads everything.
 */
export function registerWatchRoutes(app: FastifyInstance, deps: WatchRouteDeps): void {
  const open = new Set<() => void>();
  const pageSize = deps.replayPageSize ?? 1000;
  app.addHook('preClose', (done) => {
    for (const close of open) close();
    done();
  });

  app.get('/api/v1/watch', { schema: { tags: ['configs'], summary: 'Change feed (text/event-stream)', querystring: WatchQuery, response: { 200: { description: 'Server-Sent Events: `change` events ({type, path, variant?, version?, revision, user?, timestamp}, id = revision), `reset` when a resume is impossible, `ready` after the replay', content: { 'text/event-stream': { schema: Type.String() } } }, ...errors(400, 401, 403) } } }, async (request, reply) => {
    const principal = requireCap(request, 'files.read');
    const query = request.query as { prefix?: string; since?: number };
    const prefix = (query.prefix ?? '').replace(/^\/+/, '');
    const resumeFrom = resumePoint(request.headers['last-event-id'], query.since);
    const visible = (e: ChangeEvent) => e.path.startsWith(prefix) && principal.perms.can('files.read', fileKeyOf(e.path, e.variant), 'read');

    reply.hijack();
    const stream = openStream(request, reply, deps.heartbeatMs ?? 15_000);
    open.add(stream.close);
    stream.onClose(() => open.delete(stream.close));

    // Every event goes out once, in revision order: `last` is the newest revision handled.
    let last = 0;
    const send = (e: ChangeEvent) => {
      if (e.revision <= last) return;
      last = e.revision;
      if (visible(e)) stream.write(`id: ${e.revision}\nevent: change\ndata: ${JSON.stringify(e)}\n\n`);
    };
    // Subscribe before reading the feed position, so an event committed in between is held
    // rather than lost; live events are held until the replay is done.
    let held: ChangeEvent[] | undefined = [];
    stream.onClose(
      deps.feed.subscribe((e) => {
        if (held) held.push(e);
        else send(e);
      }),
    );

    // A restore replaced the data and discarded the feed's history: tell the client to re-read,
    // drop what was held from before, and continue after the feed's new revision.
    const stopResets = deps.feed.onReset?.((revision) => {
      if (held) held = [];
      last = revision;
      // With the id, a client that reconnects later resumes after the reset, not before it.
      stream.write(`id: ${revision}\nevent: reset\ndata: ${JSON.stringify({ revision })}\n\n`);
    });
    if (stopResets) stream.onClose(stopResets);

    last = resumeFrom ?? (await deps.feed.current());
    if (resumeFrom !== undefined) {
      const first = await deps.feed.since(resumeFrom, pageSize);
      if (!first.complete) {
        const current = await deps.feed.current();
        stream.write(`event: reset\ndata: ${JSON.stringify({ revision: current })}\n\n`);
        // A Last-Event-ID from the future (a wiped or different server) must not become the
        // dedupe mark, or every new event up to that number would be swallowed.
        last = Math.min(last, current);
      }
      // Page through everything missed: stopping after one page would silently skip the rest.
      for (let page = first; !stream.closed; page = await deps.feed.since(last, pageSize)) {
        for (const e of page.events) send(e);
        if (page.events.length < pageSize) break;
      }
    }
    const live = held;
    held = undefined;
    for (const e of live) send(e);
    stream.write(`event: ready\ndata: ${JSON.stringify({ revision: last })}\n\n`);
  });
}

interface EventStream {
  readonly write: (chunk: string) => void;
  readonly close: () => void;
  /** Runs `fn` when the stream closes (at once if it already has). */
  readonly onClose: (fn: () => void) => void;
  readonly closed: boolean;
}

/**
 * The raw SSE response. Closing is idempotent and triggered by the client going away, a socket
 * error or server shutdown; writes after that are dropped instead of raising write-after-end
 * errors from handlers still awaiting the store.
 */
function openStream(request: FastifyRequest, reply: FastifyReply, heartbeatMs: number): EventStream {
  let closed = false;
  const cleanups: (() => void)[] = [];
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
    'x-request-id': request.id,
  });
  const write = (chunk: string) => {
    if (!closed) reply.raw.write(chunk);
  };
  const heartbeat = setInterval(() => { write(': ping\n\n'); }, heartbeatMs);
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const fn of cleanups.splice(0)) fn();
    reply.raw.end();
  };
  reply.raw.on('close', close);
  reply.raw.on('error', close);
  request.raw.on('close', close);
  // The client may already be gone: then no 'close' event is coming any more.
  if (request.raw.socket.destroyed) close();
  write('retry: 2000\n\n');
  return {
    write,
    close,
    onClose: (fn) => {
      if (closed) fn();
      else cleanups.push(fn);
    },
    get closed() {
      return closed;
    },
  };
}

/** Where a reconnecting client left off: `Last-Event-ID` wins over `?since=`. */
function resumePoint(header: string | string[] | undefined, since: number | undefined): number | undefined {
  const raw = typeof header === 'string' && header !== '' ? Number(header) : since;
  if (raw !== undefined && (!Number.isSafeInteger(raw) || raw < 0)) throw new AppError('ERR_VALIDATION', 'Last-Event-ID must be a revision number');
  return raw;
}
