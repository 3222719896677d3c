import { describe, expect, it } from 'vitest';
import { loadOperatorConfig, OperatorConfigError } from './config.ts';

describe('loadOperatorConfig', () => {
  it('has sensible defaults', () => {
    const config = loadOperatorConfig({ PIKA_OPERATOR_IDENTITY: 'pod-1' });
    expect(config).toMatchObject({
      namespace: 'pika-system',
      identity: 'pod-1',
      watchNamespaces: undefined,
      health: { host: '0.0.0.0', port: 8081 },
      leaderElection: true,
      leaseName: 'pika-operator',
      workers: 4,
      serverCheckIntervalMs: 60_000,
      lockedCheckIntervalMs: 2_000,
      logLevel: 'info',
    });
  });

  it('reads every variable', () => {
    const config = loadOperatorConfig({
      PIKA_OPERATOR_NAMESPACE: 'ops',
      PIKA_OPERATOR_WATCH_NAMESPACES: 'a, b,,c',
      PIKA_OPERATOR_HEALTH_ADDR: '127.0.0.1:9000',
      PIKA_OPERATOR_LEADER_ELECTION: 'FALSE',
      PIKA_OPERATOR_WORKERS: '8',
      PIKA_OPERATOR_LOCKED_CHECK_INTERVAL: '500ms',
      PIKA_LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({ namespace: 'ops', watchNamespaces: ['a', 'b', 'c'], health: { host: '127.0.0.1', port: 9000 }, leaderElection: false, workers: 8, lockedCheckIntervalMs: 500, logLevel: 'debug' });
  });

  it('reads the UnlockRequest settings: sealing Secret, key renewal (0: never), unlock poll', () => {
    expect(loadOperatorConfig({})).toMatchObject({ sealingSecret: 'pika-operator-sealing', sealingKeyRenewalMs: 720 * 3_600_000, unlockCheckIntervalMs: 5_000 });
    expect(loadOperatorConfig({ PIKA_OPERATOR_SEALING_SECRET: 'sealing', PIKA_OPERATOR_SEALING_KEY_RENEWAL: '0', PIKA_OPERATOR_UNLOCK_CHECK_INTERVAL: '1s' })).toMatchObject({ sealingSecret: 'sealing', sealingKeyRenewalMs: 0, unlockCheckIntervalMs: 1_000 });
    expect(() => loadOperatorConfig({ PIKA_OPERATOR_UNLOCK_CHECK_INTERVAL: '0', PIKA_OPERATOR_SEALING_SECRET: 'No' })).toThrow(/PIKA_OPERATOR_SEALING_SECRET[\s\S]*PIKA_OPERATOR_UNLOCK_CHECK_INTERVAL/);
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      loadOperatorConfig({ PIKA_OPERATOR_NAMESPACE: 'Not_Valid', PIKA_OPERATOR_HEALTH_ADDR: 'nowhere', PIKA_OPERATOR_WORKERS: '0', PIKA_OPERATOR_LEADER_ELECTION: 'maybe', PIKA_OPERATOR_SERVER_CHECK_INTERVAL: '10', PIKA_LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OperatorConfigError);
    const message = (error as Error).message;
    for (const name of ['PIKA_OPERATOR_NAMESPACE', 'PIKA_OPERATOR_HEALTH_ADDR', 'PIKA_OPERATOR_WORKERS', 'PIKA_OPERATOR_LEADER_ELECTION', 'PIKA_OPERATOR_SERVER_CHECK_INTERVAL', 'PIKA_LOG_LEVEL']) expect(message).toContain(name);
  });
});
