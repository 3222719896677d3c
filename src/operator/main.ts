import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { loadOperatorConfig, OperatorConfigError } from './config.ts';
import { buildOperator } from './operator.ts';

/**
 * The process shell for `pika operator`: read the config, load the kubeconfig (`KUBECONFIG`,
 * ~/.kube/config, or the in-cluster service account, in client-node's order), run, and shut
 * down gracefully on SIGINT/SIGTERM (in-flight reconciles finish, the Lease is released so a
 * standby takes over at once). Losing leadership exits with 1 so the pod restarts clean.
 */
export async function runOperator(): Promise<number> {
  let config;
  try {
    config = loadOperatorConfig();
  } catch (err) {
    if (err instanceof OperatorConfigError) {
      process.stderr.write(`pika operator: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { component: 'operator' } });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();

  return new Promise<number>((resolve) => {
    let stopping = false;
    const operator = buildOperator(config, {
      kubeConfig,
      logger,
      onLostLeadership: () => { stop('lost leadership', 1); },
    });
    function stop(why: string, code: number): void {
      if (stopping) return;
      stopping = true;
      logger.info({ why }, 'shutting down');
      operator
        .stop()
        .then(() => { resolve(code); })
        .catch((err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        });
    }
    process.once('SIGINT', () => { stop('SIGINT', 0); });
    process.once('SIGTERM', () => { stop('SIGTERM', 0); });
    operator.start().then(
      () => { logger.info({ health: `${config.health.host}:${config.health.port}`, leader_election: config.leaderElection }, 'pika operator is running'); },
      (err: unknown) => {
        logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'cannot start the operator');
        stop('start failed', 1);
      },
    );
  });
}
