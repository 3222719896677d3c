import { describe, expect, it } from 'vitest';
import type { PikaToken, PikaTokenSpec } from '../../shared/crds/index.ts';
import { buildTokenSecret, planToken, renewBeforeOf, requeueAfter, specProblem, tokenNameOf } from './token-plan.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');

const spec = (extra: Partial<PikaTokenSpec> = {}): PikaTokenSpec => ({
  serverRef: { kind: 'PikaServer', name: 'main' },
  scopes: [{ path: 'myapp/**', operations: ['read'] }],
  ttl: '24h',
  target: { name: 'eso-token', key: 'token', labels: { 'external-secrets.io/type': 'webhook' } },
  ...extra,
});

const pikaToken = (extra: Partial<PikaTokenSpec> = {}): PikaToken => ({
  apiVersion: 'pika.io/v1alpha1',
  kind: 'PikaToken',
  metadata: { name: 'eso', namespace: 'demo', uid: 'uid-1', generation: 1, resourceVersion: '1' },
  spec: spec(extra),
});

describe('renewal schedule', () => {
  it('renews at 2/3 of the ttl by default, at expiry - renewBefore when set', () => {
    expect(renewBeforeOf(spec({ ttl: '24h' }))).toBe(8 * HOUR);
    expect(renewBeforeOf(spec({ ttl: '90m' }))).toBe(30 * 60_000);
    expect(renewBeforeOf(spec({ ttl: '24h', renewBefore: '1h' }))).toBe(HOUR);
    expect(renewBeforeOf({ ...spec(), ttl: undefined })).toBe(8 * HOUR); // the CRD default, 24h
  });

  it('never renews later than 90% of the lifetime, whatever renewBefore says', () => {
    expect(renewBeforeOf(spec({ ttl: '1m', renewBefore: '59s' }))).toBe(54_000);
  });

  it('requeues until the renewal, capped so the controller jitter cannot pass the expiry, at least 1 s', () => {
    expect(requeueAfter(T0 + 16 * HOUR, T0 + 24 * HOUR, T0)).toBe(16 * HOUR);
    expect(requeueAfter(T0 + 24 * HOUR - 1_000, T0 + 24 * HOUR, T0)).toBe(Math.round(24 * HOUR * 0.85));
    expect(requeueAfter(T0 - 5_000, T0 + HOUR, T0)).toBe(1_000);
  });
});

describe('mint decisions', () => {
  const minted = (extra: Partial<PikaToken['status']> = {}): PikaToken => ({ ...pikaToken(), status: { tokenId: 'tok1', expiresAt: new Date(T0 + 24 * HOUR).toISOString(), observedGeneration: 1, ...extra } });
  const secretFor = (t: PikaToken, id = 'tok1') => buildTokenSecret(t, id, 'pika_raw');

  it('mints a first token', () => {
    expect(planToken(pikaToken(), undefined, T0).mint).toBe('Initial');
  });

  it('keeps a current token until its renewal time, then renews', () => {
    const t = minted();
    expect(planToken(t, secretFor(t), T0)).toEqual({ mint: undefined, renewAtMs: T0 + 16 * HOUR });
    expect(planToken(t, secretFor(t), T0 + 16 * HOUR - 1).mint).toBeUndefined();
    expect(planToken(t, secretFor(t), T0 + 16 * HOUR).mint).toBe('RenewalDue');
    expect(planToken(t, secretFor(t), T0 + 24 * HOUR).mint).toBe('Expired');
  });

  it('mints again when the spec changed since the current token', () => {
    const t = { ...minted(), metadata: { ...minted().metadata, generation: 2 } };
    expect(planToken(t, secretFor(t), T0).mint).toBe('SpecChanged');
  });

  it('mints again when the Secret is gone, lacks the key, or holds another token', () => {
    const t = minted();
    expect(planToken(t, undefined, T0).mint).toBe('SecretMissing');
    expect(planToken(t, Object.assign(secretFor(t), { data: {} }), T0).mint).toBe('SecretMissing');
    expect(planToken(t, secretFor(t, 'tok0'), T0).mint).toBe('SecretChanged');
  });

  it('rejects files.* capabilities with a pointer to scopes', () => {
    expect(specProblem(spec({ capabilities: ['files.read'] }))).toMatch(/through scopes/);
    expect(specProblem(spec({ capabilities: ['key.unlock'] }))).toBeUndefined();
  });

  it('names the token k8s/<namespace>/<name>, within the server limit of 128', () => {
    expect(tokenNameOf('demo', 'eso')).toBe('k8s/demo/eso');
    const long = tokenNameOf('n'.repeat(63), 'x'.repeat(253));
    expect(long.length).toBe(128);
    expect(long).not.toBe(tokenNameOf('n'.repeat(63), `${'x'.repeat(252)}y`));
  });
});
