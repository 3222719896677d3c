/**
 * The test IdP (oidc-provider.ts) as a process of its own, for the e2e tests: they drive the
 * built server as a black box and may not import server code, so they spawn this file with
 * `node --import tsx`. Clients come as JSON in OIDC_TEST_CLIENTS; once listening it prints one
 * JSON line `{"issuer": "http://127.0.0.1:<port>"}`; SIGTERM stops it.
 */
import { startTestIdp, type TestClient } from './oidc-provider.ts';

const clients = JSON.parse(process.env.OIDC_TEST_CLIENTS ?? '[]') as TestClient[];
const idp = await startTestIdp({ clients });
process.stdout.write(`${JSON.stringify({ issuer: idp.issuer })}\n`);
process.once('SIGTERM', () => {
  void idp.close().then(() => process.exit(0));
});
