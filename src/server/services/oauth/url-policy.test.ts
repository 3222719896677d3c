import { describe, expect, it } from 'vitest';
import { checkProviderUrl, isLoopbackHost } from './url-policy.ts';

describe('identity provider URL policy', () => {
  it('recognises loopback hosts only', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '[::1]', '::1', 'localhost', 'LOCALHOST', '[::ffff:127.0.0.1]']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['10.0.0.1', '128.0.0.1', 'localhost.evil.example', '127.0.0.1.evil.example', '[::2]', 'example.com']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('allows https anywhere and http only on loopback', () => {
    expect(checkProviderUrl('https://idp.example.com/realms/a', 'issuer_url')).toBe('https');
    expect(checkProviderUrl('http://127.0.0.1:3300', 'issuer_url')).toBe('http');
    expect(() => checkProviderUrl('http://idp.example.com', 'issuer_url')).toThrow(expect.objectContaining({ code: 'ERR_OAUTH_PROVIDER', details: { reason: 'insecure_url' } }));
    expect(() => checkProviderUrl('ftp://127.0.0.1', 'token_url')).toThrow(/token_url/);
    expect(() => checkProviderUrl('not a url', 'auth_url')).toThrow(expect.objectContaining({ details: { reason: 'invalid_url' } }));
  });
});
