import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/**
 * client-node 1.4 builds a new `https.Agent` for every API call (`applySecurityAuthentication` →
 * `createAgent`), so every request pays a TLS handshake and re-parses the CA: the bench measured
 * about half the operator's CPU there. This keeps one keep-alive agent per distinct TLS identity
 * (CA, client certificate, server name, verification), which the API server's HTTP/1.1
 * connections are then reused by. Proxy agents and plain-HTTP agents are left as they are.
 */
const pooled = new WeakSet<KubeConfig>();

export function reuseConnections(kc: KubeConfig, options: { readonly maxSockets?: number } = {}): KubeConfig {
  if (pooled.has(kc)) return kc;
  pooled.add(kc);
  const original = kc.applySecurityAuthentication.bind(kc);
  const agents = new Map<string, Agent>();
  kc.applySecurityAuthentication = async (context) => {
    await original(context);
    const fresh = context.getAgent();
    if (!(fresh instanceof Agent) || fresh.constructor !== Agent) return;
    const o = fresh.options;
    const id = createHash('sha256')
      .update(JSON.stringify([o.ca, o.cert, o.key, o.pfx, o.servername, o.rejectUnauthorized].map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : v))))
      .digest('hex');
    let agent = agents.get(id);
    if (!agent) {
      agent = new Agent({ ...o, keepAlive: true, maxSockets: options.maxSockets ?? 32 });
      agents.set(id, agent);
    }
    context.setAgent(agent);
  };
  return kc;
}
