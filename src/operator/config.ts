import { hostname } from 'node:os';
import { parseDuration } from '../shared/duration.ts';

/**
 * The operator's settings, from `PIKA_OPERATOR_*` environment variables (the only module of the
 * operator that reads the environment, style §4.2.1). Every problem is reported at once.
 *
 * | Variable | Default | Meaning |
 * | --- | --- | --- |
 * | `PIKA_OPERATOR_NAMESPACE` | `pika-system` | Where the Lease and the state Secret live (set from the pod's namespace) |
 * | `PIKA_OPERATOR_IDENTITY` | host name | Leader-election identity (set from the pod's name) |
 * | `PIKA_OPERATOR_WATCH_NAMESPACES` | all | Comma-separated namespaces whose PikaConfigs and PikaTokens are served |
 * | `PIKA_OPERATOR_HEALTH_ADDR` | `0.0.0.0:8081` | `/healthz`, `/readyz`, `/metrics` |
 * | `PIKA_OPERATOR_LEADER_ELECTION` | `true` | `false` for a single replica without a Lease |
 * | `PIKA_OPERATOR_LEASE_NAME` | `pika-operator` | Name of the Lease |
 * | `PIKA_OPERATOR_STATE_SECRET` | `pika-operator-state` | Secret holding the operator's HMAC key |
 * | `PIKA_OPERATOR_WORKERS` | `4` | Concurrent reconciles per kind |
 * | `PIKA_OPERATOR_SERVER_CHECK_INTERVAL` | `60s` | How often a PikaServer is checked while healthy |
 * | `PIKA_OPERATOR_LOCKED_CHECK_INTERVAL` | `2s` | How often a locked or unreachable server is checked, so unlock is noticed promptly |
 * | `PIKA_OPERATOR_SEALING_SECRET` | `pika-operator-sealing` | Secret (in the operator's namespace) holding the UnlockRequest sealing keys |
 * | `PIKA_OPERATOR_SEALING_KEY_RENEWAL` | `720h` | Add a new sealing key when the newest is this old (old keys are kept); `0` never |
 * | `PIKA_OPERATOR_UNLOCK_CHECK_INTERVAL` | `5s` | How often an UnlockRequest polls its server's lock state while it is unlocked (how fast a restart is noticed) |
 * | `PIKA_LOG_LEVEL` | `info` | trace, debug, info, warn, error |
 */
export interface OperatorConfig {
  readonly namespace: string;
  readonly identity: string;
  readonly watchNamespaces: readonly string[] | undefined;
  readonly health: { readonly host: string; readonly port: number };
  readonly leaderElection: boolean;
  readonly leaseName: string;
  readonly stateSecret: string;
  readonly workers: number;
  readonly serverCheckIntervalMs: number;
  readonly lockedCheckIntervalMs: number;
  readonly logLevel: string;
  /** Optional for callers that build a config by hand; `loadOperatorConfig` always sets them. */
  readonly sealingSecret?: string;
  /** 0: never renew by itself. */
  readonly sealingKeyRenewalMs?: number;
  readonly unlockCheckIntervalMs?: number;
}

export class OperatorConfigError extends Error {
  constructor(problems: readonly string[]) {
    super(`invalid operator configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'OperatorConfigError';
  }
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

type Env = Readonly<Record<string, string | undefined>>;

function reader(env: Env, problems: string[]) {
  const read = (name: string, fallback: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? fallback : value;
  };
  return {
    read,
    name: (variable: string, fallback: string) => {
      const value = read(variable, fallback);
      if (!NAME.test(value) || value.length > 63) problems.push(`${variable}: "${value}" is not a valid Kubernetes name`);
      return value;
    },
    duration: (variable: string, fallback: string, allowZero = false) => {
      try {
        const raw = read(variable, fallback);
        if (allowZero && raw === '0') return 0;
        const ms = parseDuration(raw);
        if (ms <= 0) throw new Error('must be positive');
        return ms;
      } catch (err) {
        problems.push(`${variable}: ${(err as Error).message}`);
        return parseDuration(fallback);
      }
    },
  };
}

function healthAddress(raw: string, problems: string[]): { host: string; port: number } {
  const match = /^(.*):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2] ?? Number.NaN);
  if (!match || port > 65535) {
    problems.push(`PIKA_OPERATOR_HEALTH_ADDR: "${raw}" is not host:port`);
    return { host: '0.0.0.0', port: 8081 };
  }
  return { host: match[1] || '0.0.0.0', port };
}

function namespaces(raw: string, problems: string[]): string[] | undefined {
  if (raw === '') return undefined;
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const ns of list) if (!NAME.test(ns)) problems.push(`PIKA_OPERATOR_WATCH_NAMESPACES: "${ns}" is not a valid namespace`);
  return list;
}

function workers(raw: string, problems: string[]): number {
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 1 && value <= 64) return value;
  problems.push('PIKA_OPERATOR_WORKERS: must be an integer from 1 to 64');
  return 4;
}

export function loadOperatorConfig(env: Env = process.env): OperatorConfig {
  const problems: string[] = [];
  const { read, name, duration } = reader(env, problems);
  const election = read('PIKA_OPERATOR_LEADER_ELECTION', 'true').toLowerCase();
  if (election !== 'true' && election !== 'false') problems.push('PIKA_OPERATOR_LEADER_ELECTION: must be true or false');
  const logLevel = read('PIKA_LOG_LEVEL', 'info');
  if (!LOG_LEVELS.has(logLevel)) problems.push(`PIKA_LOG_LEVEL: "${logLevel}" is not one of ${[...LOG_LEVELS].join(', ')}`);
  const config: OperatorConfig = {
    namespace: name('PIKA_OPERATOR_NAMESPACE', 'pika-system'),
    identity: read('PIKA_OPERATOR_IDENTITY', hostname()),
    watchNamespaces: namespaces(read('PIKA_OPERATOR_WATCH_NAMESPACES', ''), problems),
    health: healthAddress(read('PIKA_OPERATOR_HEALTH_ADDR', '0.0.0.0:8081'), problems),
    leaderElection: election !== 'false',
    leaseName: name('PIKA_OPERATOR_LEASE_NAME', 'pika-operator'),
    stateSecret: name('PIKA_OPERATOR_STATE_SECRET', 'pika-operator-state'),
    workers: workers(read('PIKA_OPERATOR_WORKERS', '4'), problems),
    serverCheckIntervalMs: duration('PIKA_OPERATOR_SERVER_CHECK_INTERVAL', '60s'),
    lockedCheckIntervalMs: duration('PIKA_OPERATOR_LOCKED_CHECK_INTERVAL', '2s'),
    logLevel,
    sealingSecret: name('PIKA_OPERATOR_SEALING_SECRET', 'pika-operator-sealing'),
    sealingKeyRenewalMs: duration('PIKA_OPERATOR_SEALING_KEY_RENEWAL', '720h', true),
    unlockCheckIntervalMs: duration('PIKA_OPERATOR_UNLOCK_CHECK_INTERVAL', '5s'),
  };
  if (problems.length > 0) throw new OperatorConfigError(problems);
  return config;
}
