import { AppError } from '../../../shared/errors.ts';

/**
 * The port inheritance uses to read named external resources (SPEC §9). Providers (Vault, HTTP,
 * Kubernetes, …) plug in behind it through an explicit registry; until one is configured every
 * name is unknown, which resolution reports as a 400 naming the resource.
 */
export interface ExternalSources {
  /** The value at `path` in resource `name`: a JSON document or a plain string. */
  fetch(name: string, path: string): Promise<unknown>;
}

export const NO_EXTERNAL_SOURCES: ExternalSources = {
  fetch: (name) => Promise.reject(new AppError('ERR_RESOURCE_UNKNOWN', `no external resource named "${name}" is configured`)),
};
