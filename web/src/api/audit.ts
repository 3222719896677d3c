import { api } from './client.ts';

export interface AuditEntry {
  id: string;
  time: string;
  action: string;
  actor: string;
  actor_type: string;
  target?: string;
  status: number;
  ip?: string;
  request_id?: string;
  detail?: string;
}

export interface AuditQuery {
  /** Exact actor name (case-insensitive). */
  actor?: string;
  /** Part of the action (`login.`, `POST /api/v1/key`). */
  action?: string;
  /** RFC 3339 bounds. */
  since?: string;
  until?: string;
  limit: number;
  offset: number;
}

export const listAudit = (q: AuditQuery) =>
  api.get<{ entries: AuditEntry[]; total: number }>('/api/v1/audit', {
    query: { actor: q.actor, action: q.action, 'time[gte]': q.since, 'time[lte]': q.until, _limit: q.limit, _offset: q.offset },
  });
export const getAuditRetention = () => api.get<{ retention_hours: number }>('/api/v1/audit/retention');
