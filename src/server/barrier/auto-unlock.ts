import { readFile } from 'node:fs/promises';
import type { FastifyBaseLogger } from 'fastify';
import { AppError } from '../../shared/errors.ts';
import type { KeyManager } from './key-manager.ts';

/**
 * Opt-in auto-unlock (issue: `encryption.password_file`): the passphrase comes from a mounted
 * file (a Kubernetes Secret volume, say), never from the environment. A correct passphrase unlocks
 * at boot; a missing, empty or wrong one leaves the server locked and is reported through
 * `/api/v1/info` as `encryption_config_invalid`. On a fresh install the file initializes the key,
 * as upstream does with its configured password. The passphrase is never logged.
 */
export async function autoUnlockFromFile(keys: Pick<KeyManager, 'status' | 'initialize' | 'unlock'>, path: string, log: FastifyBaseLogger): Promise<{ configInvalid: boolean }> {
  let passphrase: string;
  try {
    passphrase = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    log.error({ path, code: (err as NodeJS.ErrnoException).code }, 'cannot read encryption.password_file; the server stays locked');
    return { configInvalid: true };
  }
  if (passphrase === '') {
    log.error({ path }, 'encryption.password_file is empty; the server stays locked');
    return { configInvalid: true };
  }
  if (!keys.status().initialized) {
    await keys.initialize(passphrase);
    log.warn({ path }, 'server key initialized from encryption.password_file');
    return { configInvalid: false };
  }
  try {
    await keys.unlock(passphrase);
    log.info({ path }, 'server unlocked from encryption.password_file');
    return { configInvalid: false };
  } catch (err) {
    if (err instanceof AppError && err.code === 'ERR_KEY_WRONG') {
      log.error({ path }, 'encryption.password_file does not hold the server key; the server stays locked');
      return { configInvalid: true };
    }
    throw err;
  }
}
