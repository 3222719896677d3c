import { Agent } from 'node:https';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { reuseConnections } from './connection-reuse.ts';

function config(server = 'https://127.0.0.1:6443', ca = 'Y2E='): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, caData: ca }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function agentOf(kc: KubeConfig) {
  const context = new RequestContext('https://127.0.0.1:6443/api/v1/namespaces', HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  return context.getAgent();
}

describe('reuseConnections', () => {
  it('client-node alone makes a new agent per call; with reuse every call shares one keep-alive agent', async () => {
    const plain = config();
    expect(await agentOf(plain)).not.toBe(await agentOf(plain));
    const pooled = reuseConnections(config());
    const first = await agentOf(pooled);
    expect(first).toBeInstanceOf(Agent);
    expect(await agentOf(pooled)).toBe(first);
    expect((first as Agent & { keepAlive: boolean }).keepAlive).toBe(true);
  });

  it('keeps the TLS identity: a different CA gets its own agent, and auth headers still apply', async () => {
    const a = reuseConnections(config());
    const b = reuseConnections(config('https://127.0.0.1:6443', 'b3RoZXI='));
    expect(await agentOf(a)).not.toBe(await agentOf(b));
    expect((await agentOf(a) as Agent).options.ca?.toString()).toBe('ca');
    const context = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
    await a.applyToFetchOptions({});
    await a.applySecurityAuthentication(context);
    expect(context.getHeaders().Authorization).toBe('Bearer t');
  });
});
