import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorBody, type ErrorCode, ERRORS, isAppError } from '../../shared/errors.ts';

/**
 * Turns every failure into the one error body `{code, message, request_id, details?}` (SPEC §2).
 * Catalog errors keep their code and status; Fastify's own errors (schema validation, body
 * parsing, size limits, bad URLs) are mapped by their stable `code`, never by message text.
 * Anything else is a 500 whose details stay in the log.
 */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'ERR_MALFORMED_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'ERR_MALFORMED_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'ERR_BAD_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'ERR_PATH_INVALID',
  FST_ERR_INVALID_URL: 'ERR_PATH_INVALID',
  FST_ERR_ASYNC_CONSTRAINT: 'ERR_BAD_REQUEST',
};

export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const fe = err as {
    code?: string;
    statusCode?: number;
    message?: string;
    validationContext?: string;
    validation?: { instancePath?: string; message?: string; params?: unknown }[];
  };
  if (fe.validation) {
    const errors = fe.validation.map((v) => ({ field: `${fe.validationContext ?? ''}${v.instancePath ?? ''}`, message: describe(v) }));
    const first = errors[0];
    const message = first ? `${first.field || 'request'}: ${first.message}` : ERRORS.ERR_VALIDATION.message;
    return new AppError('ERR_VALIDATION', message, { details: { errors } });
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return new AppError(mapped, mapped === 'ERR_BODY_TOO_LARGE' ? undefined : fe.message);
  // The JSON body parser throws a plain SyntaxError carrying statusCode 400.
  if (err instanceof SyntaxError && fe.statusCode === 400) return new AppError('ERR_MALFORMED_BODY');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new AppError('ERR_BAD_REQUEST', fe.message);
  return new AppError('ERR_INTERNAL');
}

function describe(v: { message?: string; params?: unknown }): string {
  const params = v.params as { additionalProperty?: string; allowedValues?: unknown[] } | undefined;
  if (params?.additionalProperty) return `unknown field "${params.additionalProperty}"`;
  if (params?.allowedValues) return `${v.message ?? 'invalid'}: ${params.allowedValues.map(String).join(', ')}`;
  return v.message ?? 'invalid';
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const body: ErrorBody = { code: error.code, message: error.message, request_id: request.id };
  if (error.details) body.details = error.details;
  if (error.headers) void reply.headers(error.headers);
  return reply.code(error.status).type('application/json; charset=utf-8').send(body);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const error = toAppError(err);
    if (error.status >= 500 && error.code !== 'server_locked') request.log.error({ err }, 'request failed');
    return sendError(request, reply, error);
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, new AppError('ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`)));
}

/**
 * Answers requests the HTTP parser cannot even read (bad framing, oversized headers) in the same
 * error shape as everything else, then closes the connection. Passed as Fastify's
 * `clientErrorHandler`.
 */
export function handleClientError(err: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Socket): void {
  if (!socket.writable) return;
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const noValue = !tooLarge && rawNoValue(err.rawPacket);
  const message = tooLarge ? 'request headers are too large' : noValue ? NO_VALUE_MESSAGE : 'malformed HTTP request';
  const reason = tooLarge ? 'Request Header Fields Too Large' : noValue ? `Pika Bad Request: ${NO_VALUE_MESSAGE}` : 'Bad Request';
  const body = JSON.stringify({ code: 'ERR_BAD_REQUEST', message });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/**
 * ESO renders a template field the operation does not fill as `<no value>` and sends it
 * unescaped, so the request line holds spaces and no HTTP parser can read it. ESO shows only the
 * status line, so that is where the fix goes (docs/guides/eso.md).
 */
const NO_VALUE_MESSAGE = 'the URL holds a raw "<no value>" from an ESO template field this operation does not fill; use {{ or .remoteRef.remoteKey .remoteRef.key }}';

function rawNoValue(packet: unknown): boolean {
  // Node hands over the bytes it failed on (Fastify's types call it a Buffer's JSON form).
  if (!Buffer.isBuffer(packet)) return false;
  const end = packet.indexOf('\n');
  return packet.subarray(0, end === -1 ? Math.min(packet.length, 8192) : end).includes('<no value>');
}
