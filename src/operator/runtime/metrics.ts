import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The operator's Prometheus metrics (issue 7.3): syncs, errors by reason, reconcile duration,
 * pika API calls by status, restarts triggered; plus leadership and queue depth.
 */
export function createOperatorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pika_operator_process_' });
  const syncs = new Counter({ name: 'pika_operator_syncs_total', help: 'Reconciles by kind and outcome', labelNames: ['kind', 'outcome'], registers: [registry] });
  const errors = new Counter({ name: 'pika_operator_errors_total', help: 'Reconcile errors by kind and reason', labelNames: ['kind', 'reason'], registers: [registry] });
  const duration = new Histogram({
    name: 'pika_operator_reconcile_duration_seconds',
    help: 'Time spent in one reconcile',
    labelNames: ['kind'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const pikaCalls = new Counter({ name: 'pika_operator_pika_api_calls_total', help: 'Calls to pika servers by route and HTTP status (0 = no answer)', labelNames: ['route', 'status'], registers: [registry] });
  const restarts = new Counter({ name: 'pika_operator_rollout_restarts_total', help: 'Rollout restarts triggered, by workload kind', labelNames: ['kind'], registers: [registry] });
  const leader = new Gauge({ name: 'pika_operator_leader', help: '1 while this replica leads', registers: [registry] });
  return { registry, syncs, errors, duration, pikaCalls, restarts, leader };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
