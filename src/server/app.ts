import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { VERSION } from '../shared/version.ts';
import type { PikaConfig } from './config/config-schema.ts';
import { autoUnlockFromFile } from './barrier/auto-unlock.ts';
import { installAuditHook } from './plugins/audit-hook.ts';
import { createAuthenticator, installAuth } from './plugins/auth.ts';
import { handleClientError, installErrorHandling } from './plugins/error-handler.ts';
import { installLockgate } from './plugins/lockgate.ts';
import { installPublicSurface, publicReader } from './plugins/public-surface.ts';
import { defaultWebRoot, installWebUi } from './plugins/web-ui.ts';
import { genRequestId, installRequestContext } from './plugins/request-context.ts';
import { installValidators } from './plugins/validation.ts';
import { registerAuditRoutes } from './routes/audit/audit-routes.ts';
import { registerBackupRoutes } from './routes/backup/backup-routes.ts';
import { registerConfigRoutes } from './routes/configs/config-routes.ts';
import { registerWatchRoutes } from './routes/configs/watch-routes.ts';
import { registerDataRoutes } from './routes/data/data-routes.ts';
import { registerEsoRoutes } from './routes/eso/eso-routes.ts';
import { registerKeyRoutes } from './routes/key/key-routes.ts';
import { registerLoginInfoRoute } from './routes/login/login-info-routes.ts';
import { registerLoginRoutes } from './routes/login/login-routes.ts';
import { registerLdapLoginRoutes } from './routes/login/ldap-login-routes.ts';
import { registerOAuthRoutes } from './routes/login/oauth-routes.ts';
import { registerSettingsRoutes } from './routes/settings/settings-routes.ts';
import { registerBundleRoutes } from './routes/permissions/bundle-routes.ts';
import { registerHealthRoute, registerSystemRoutes } from './routes/system/system-routes.ts';
import { registerTokenRoutes } from './routes/tokens/token-routes.ts';
import { registerMeRoutes } from './routes/users/me-routes.ts';
import { registerMeTotpRoutes } from './routes/users/me-totp-routes.ts';
import { registerUserIdentityRoutes } from './routes/users/user-identity-routes.ts';
import { registerUserRoutes } from './routes/users/user-routes.ts';
import { registerUserSyncRoutes } from './routes/user-sync/user-sync-routes.ts';
import { registerUserTotpRoutes } from './routes/users/user-totp-routes.ts';
import type { ExternalSources } from './services/externals/external-sources.ts';
import { createServices, type Services, startBackgroundJobs } from './services/create-services.ts';
import type { Store } from './storage/store.ts';

export interface AppDeps {
  readonly store: Store;
  readonly logger?: FastifyBaseLogger;
  readonly clock?: () => number;
  /** bcrypt cost (default 10); tests lower it. */
  readonly passwordCost?: number;
  readonly externals?: ExternalSources;
  /** Where the built console lives (default `web/dist`); false serves no UI. */
  readonly webRoot?: string | false;
  /** scrypt cost of the server key; tests lower it (docs/encryption.md has the default). */
  readonly kdfCost?: { N: number; r: number; p: number };
}

/**
 * The application as a function (SPEC §2): a ready Fastify instance over the given store. The
 * process shell (main.ts) owns the environment, the listener and signals; tests call this same
 * function and use `inject`. Closing the app stops background jobs and flushes pending writes;
 * the store belongs to the caller.
 */
export async function buildApp(config: PikaConfig, deps: AppDeps): Promise<FastifyInstance> {
  const clock = deps.clock ?? Date.now;
  const basePath = config.server.basePath;
  const app = Fastify({
    loggerInstance: deps.logger,
    genReqId: genRequestId,
    bodyLimit: config.server.bodyLimitBytes,
    trustProxy: config.server.trustedProxies.length > 0 ? [...config.server.trustedProxies] : false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 8192 },
    forceCloseConnections: true,
    clientErrorHandler: handleClientError,
  });
  installValidators(app);
  installErrorHandling(app);
  installRequestContext(app);
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'pika', version: VERSION, description: 'Configuration server, secrets manager and personal vault' },
      servers: [{ url: basePath === '' ? '/' : basePath }],
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: config.server.cookie.name } } },
    },
  });

  const onError = (err: unknown, context: string) => { app.log.error({ err }, `${context} failed`); };
  const services = createServices(config, { store: deps.store, clock, passwordCost: deps.passwordCost, externals: deps.externals, kdfCost: deps.kdfCost, onError });
  const encryption = await bootKeyState(services.keys, config.encryption.passwordFile, app.log);
  await services.serverId.load();
  // Before the lock gate: a route the public port does not serve is a 404 there, locked or not.
  installPublicSurface(app, { basePath });
  installLockgate(app, { isLocked: () => services.keys.state() === 'locked', basePath });
  const anonymousReader = publicReader(config.server.publicPaths);
  const authenticator = createAuthenticator({ ...services, cookieName: config.server.cookie.name });
  const cookie = { ...config.server.cookie, path: basePath === '' ? '/' : basePath, maxAgeSeconds: Math.floor(config.server.sessionTtlMs / 1000) };

  await app.register(
    async (scope) => {
      registerHealthRoute(scope);
      await scope.register(async (api) => {
        // Sessions exist only here; /data and /healthz never parse cookies.
        await api.register(fastifyCookie);
        installAuth(api, authenticator);
        installAuditHook(api, { audit: services.audit, basePath });
        registerSystemRoutes(api, { users: services.users, basePath, encryption, serverId: services.serverId.id });
        registerKeyRoutes(api, { keys: services.keys, unlockLimiter: services.unlockLimiter, serverId: services.serverId.id });
        registerSettingsRoutes(api, services);
        registerLoginInfoRoute(api, { ...services, basePath });
        registerLoginRoutes(api, { ...services, cookie, basePath });
        registerLdapLoginRoutes(api, { ...services, cookie });
        registerOAuthRoutes(api, { ...services, cookie, basePath });
        registerMeRoutes(api, services);
        registerMeTotpRoutes(api, services);
        registerConfigRoutes(api, services);
        registerWatchRoutes(api, services);
        registerTokenRoutes(api, services);
        registerUserRoutes(api, services);
        registerUserTotpRoutes(api, services);
        registerUserIdentityRoutes(api, services);
        registerBundleRoutes(api, services);
        registerUserSyncRoutes(api, services);
        registerAuditRoutes(api, { audit: services.audit, retentionMs: config.audit.retentionMs });
        await registerBackupRoutes(api, services);
      });
      await scope.register(async (data) => {
        registerDataRoutes(data, { ...services, authenticator, clock, anonymousReader });
      });
      await scope.register(async (eso) => {
        registerEsoRoutes(eso, { eso: services.eso, audit: services.audit, authenticator, clock, basePath, anonymousReader });
      });
      scope.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: basePath },
  );
  if (basePath !== '') registerHealthRoute(app);
  if (deps.webRoot !== false) await installWebUi(app, { root: deps.webRoot ?? defaultWebRoot(), basePath });

  const stopJobs = startBackgroundJobs(services, onError);
  app.addHook('onClose', async () => {
    await stopJobs();
  });
  await app.ready();
  return app;
}

/** Loads the key state at boot and applies the optional password file (SPEC §7). */
async function bootKeyState(keys: Services['keys'], passwordFile: string | undefined, log: FastifyBaseLogger): Promise<{ configInvalid: boolean }> {
  await keys.load();
  const result = passwordFile === undefined ? { configInvalid: false } : await autoUnlockFromFile(keys, passwordFile, log);
  const state = keys.state();
  if (state === 'uninitialized') log.info('encryption at rest is not enabled yet; initialize it with POST /api/v1/key/initialize');
  else if (state === 'locked') log.warn('the server is locked: unlock it with POST /api/v1/key/unlock (everything else answers 503)');
  return result;
}
