import type { FastifyInstance } from 'fastify';
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
  readonly feed: Pick<ChangeFeed, 'since' | 'subscribe' | 'current'>;
  readonly heartbeatMs?: number;
}

/**
 * `GET /api/v1/watch` (SPEC §4): a Server-Sent Events stream of config changes the caller may
 * read. Resumable: `Last-Event-ID` (or `?since=`) replays what was missed; when that is no longer
 * possible the stream starts with a `reset` event so the client re-reads everything.
 */
export function registerWatchRoutes(app: FastifyInstance, deps: WatchRouteDeps): void {
  const open = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const close of open) close();
    done();
  });

  app.get('/api/v1/watch', { schema: { tags: ['configs'], summary: 'Change feed (text/event-stream)', querystring: WatchQuery, response: errors(400, 401, 403) } }, async (request, reply) => {
    const principal = requireCap(request, 'files.read');
    const query = request.query as { prefix?: string; since?: number };
    const prefix = (query.prefix ?? '').replace(/^\/+/, '');
    const resumeFrom = resumePoint(request.headers['last-event-id'], query.since);

    const visible = (e: ChangeEvent) => e.path.startsWith(prefix) && principal.perms.can('files.read', fileKeyOf(e.path, e.variant), 'read');
    const send = (e: ChangeEvent) => reply.raw.write(`id: ${e.revision}\nevent: change\ndata: ${JSON.stringify(e)}\n\n`);

    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
      'x-request-id': request.id,
    });
    reply.raw.write('retry: 2000\n\n');

    // Live events arriving during the replay are held back, then deduplicated by revision.
    let last = resumeFrom ?? (await deps.feed.current());
    let replaying = true;
    const held: ChangeEvent[] = [];
    const unsubscribe = deps.feed.subscribe((e) => {
      if (replaying) held.push(e);
      else if (e.revision > last) {
        last = e.revision;
        if (visible(e)) send(e);
      }
    });
    const heartbeat = setInterval(() => reply.raw.write(': ping\n\n'), deps.heartbeatMs ?? 15_000);
    const close = () => {
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(close);
      reply.raw.end();
    };
    open.add(close);
    request.raw.on('close', close);

    if (resumeFrom !== undefined) {
      const replay = await deps.feed.since(resumeFrom);
      if (!replay.complete) reply.raw.write(`event: reset\ndata: ${JSON.stringify({ revision: await deps.feed.current() })}\n\n`);
      for (const e of replay.events) {
        last = Math.max(last, e.revision);
        if (visible(e)) send(e);
      }
    }
    replaying = false;
    for (const e of held) {
      if (e.revision <= last) continue;
      last = e.revision;
      if (visible(e)) send(e);
    }
    reply.raw.write(`event: ready\ndata: ${JSON.stringify({ revision: last })}\n\n`);
  });
}

/** Where a reconnecting client left off: `Last-Event-ID` wins over `?since=`. */
function resumePoint(header: string | string[] | undefined, since: number | undefined): number | undefined {
  const raw = typeof header === 'string' && header !== '' ? Number(header) : since;
  if (raw !== undefined && (!Number.isSafeInteger(raw) || raw < 0)) throw new AppError('ERR_VALIDATION', 'Last-Event-ID must be a revision number');
  return raw;
}
