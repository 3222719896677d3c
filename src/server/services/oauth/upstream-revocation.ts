import * as client from 'openid-client';
import type { ProviderClient } from './provider-clients.ts';

export interface RevocationLog {
  warn(obj: object, msg: string): void;
}

export interface UpstreamTokens {
  readonly access_token: string;
  readonly refresh_token?: string | undefined;
}

export type UpstreamRevoker = ReturnType<typeof createUpstreamRevoker>;

/**
 * After pika has issued its own session it has no use for the IdP's tokens (seed 002: "the
 * upstream access token is only used for that check and is revoked best-effort afterwards").
 * Revocation (RFC 7009) runs after the browser is redirected, only where the IdP advertises a
 * revocation endpoint; a failure is logged and otherwise ignored. Running jobs are tracked so
 * closing the app waits for them instead of cutting them off.
 */
export function createUpstreamRevoker() {
  const running = new Set<Promise<void>>();

  function revokeLater(provider: string, target: ProviderClient, tokens: UpstreamTokens, log: RevocationLog): void {
    if (target.revocationEndpoint === undefined) return;
    const job: Promise<void> = revokeAll(target, tokens)
      .catch((err: unknown) => {
        log.warn({ provider, err: err instanceof Error ? err.message : String(err) }, 'revoking the upstream token failed (ignored)');
      })
      .finally(() => running.delete(job));
    running.add(job);
  }

  async function drain(): Promise<void> {
    await Promise.allSettled([...running]);
  }

  return { revokeLater, drain };
}

async function revokeAll(target: ProviderClient, tokens: UpstreamTokens): Promise<void> {
  const jobs = [client.tokenRevocation(target.config, tokens.access_token, { token_type_hint: 'access_token' })];
  if (tokens.refresh_token !== undefined) jobs.push(client.tokenRevocation(target.config, tokens.refresh_token, { token_type_hint: 'refresh_token' }));
  const failed = (await Promise.allSettled(jobs)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}
