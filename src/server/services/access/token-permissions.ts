import { type Capability, CAPABILITY_KEYS } from '../../../shared/capabilities.ts';
import { matchScopePattern, patternCoversFolder } from '../../domain/glob.ts';
import type { Operation, Permissions } from './permissions.ts';

export interface TokenScope {
  readonly resource?: string | undefined;
  readonly path: string;
  readonly operations: readonly ('read' | 'write' | 'delete' | '*')[];
}

const FILE_CAPS = new Set<Capability>(['files.read', 'files.write']);

/**
 * A token's permissions: its scopes grant file operations on glob paths (upstream-pika.md §3);
 * its explicit capabilities grant the rest. Everything is intersected with `upstream` — the
 * permissions of whoever created the token — so a token never exceeds its creator, even after
 * the creator loses a right.
 */
export function tokenPermissions(scopes: readonly TokenScope[], capabilities: readonly Capability[], upstream: Permissions): Permissions {
  const internal = scopes.filter((s) => !s.resource);
  const allows = (op: Operation, path: string | undefined) =>
    internal.some((s) => (s.operations.includes('*') || s.operations.includes(op)) && (path === undefined || matchScopePattern(s.path, path)));
  const hasCap = (cap: Capability) => capabilities.includes(cap) || (cap === 'key.unlock' && capabilities.includes('settings.manage'));

  return {
    superadmin: false,
    can(cap, path, op) {
      if (FILE_CAPS.has(cap)) {
        const wanted: Operation = cap === 'files.read' ? 'read' : op === 'delete' ? 'delete' : 'write';
        return allows(wanted, path) && upstream.can(cap, path, op);
      }
      return hasCap(cap) && upstream.can(cap, path, op);
    },
    canSeeFolder(folder) {
      return internal.some((s) => (s.operations.includes('*') || s.operations.includes('read')) && patternCoversFolder(s.path, folder)) && upstream.canSeeFolder(folder);
    },
    report() {
      const caps = new Set<Capability>();
      const patterns: Partial<Record<Capability, string[]>> = {};
      const add = (cap: Capability, path: string) => {
        if (!upstream.can(cap)) return;
        caps.add(cap);
        (patterns[cap] ??= []).push(path);
      };
      for (const s of internal) {
        const ops = s.operations.includes('*') ? ['read', 'write', 'delete'] : s.operations;
        if (ops.includes('read')) add('files.read', s.path);
        if (ops.includes('write') || ops.includes('delete')) add('files.write', s.path);
      }
      // Explicit capabilities, plus what they imply (key.unlock by settings.manage), in catalog order.
      for (const cap of CAPABILITY_KEYS) if (!FILE_CAPS.has(cap) && hasCap(cap) && upstream.can(cap)) caps.add(cap);
      return { capabilities: CAPABILITY_KEYS.filter((cap) => caps.has(cap)), patterns };
    },
  };
}
