import { mkdirSync } from 'node:fs';
import { pino, type LoggerOptions } from 'pino';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config/load-config.ts';
import { listenPublic, type PublicListener } from './plugins/public-surface.ts';
import { redactUrl } from './plugins/request-context.ts';
import { openDiskStore } from './storage/level-store.ts';

/**
 * The process shell for `pika server`: read the configuration, open the store, build the app,
 * listen, and shut down cleanly on SIGINT/SIGTERM. Everything else is in buildApp.
 */
export async function runServer(options: { configFile?: string | undefined }): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig({ configFile: options.configFile });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`pika: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const { config } = loaded;
  const logger = pino(loggerOptions(config.logLevel));
  for (const warning of loaded.warnings) logger.warn(warning);

  mkdirSync(config.storage.path, { recursive: true });
  let store;
  try {
    store = await openDiskStore(config.storage.path, { sync: config.storage.sync });
  } catch (err) {
    logger.fatal({ err }, `cannot open the store at ${config.storage.path} (is another pika running on it?)`);
    return 1;
  }
  const app = await buildApp(config, { store, logger });
  await app.listen({ host: config.server.host, port: config.server.port });
  let publicListener: PublicListener | undefined;
  if (config.server.publicPort !== undefined) {
    try {
      publicListener = await listenPublic(app, { host: config.server.host, port: config.server.publicPort });
    } catch (err) {
      logger.fatal({ err }, `cannot listen on the public port ${config.server.publicPort}`);
      await app.close();
      await store.close();
      return 1;
    }
    logger.info({ port: publicListener.port, public_paths: config.server.publicPaths }, 'public port listening (/data, /eso, /healthz only)');
  }
  logger.info({ storage: config.storage.path, base_path: config.server.basePath || '/', config_file: loaded.file }, 'pika is ready');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      Promise.resolve(publicListener?.close())
        .then(() => app.close())
        .then(() => store.close())
        .then(() => { resolve(0); })
        .catch((err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        });
    };
    process.once('SIGINT', () => { stop('SIGINT'); });
    process.once('SIGTERM', () => { stop('SIGTERM'); });
  });
}

/** JSON lines, pretty only on a terminal; credentials never reach a log line. */
function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-encryption-password"]', 'res.headers["set-cookie"]'], censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), ip: req.ip }),
    },
    // Pretty lines on a terminal when pino-pretty (a dev dependency) is installed: the production
    // image does not have it, and `docker run -it` must still start.
    ...(process.stdout.isTTY && prettyAvailable() ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } } : {}),
  };
}

function prettyAvailable(): boolean {
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
