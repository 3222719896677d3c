import { ApiException, CustomObjectsApi, type KubeConfig, type KubernetesObject, KubernetesObjectApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/**
 * The one wrapper over the Kubernetes API the reconcilers use (style §4.2.9): server-side apply
 * under a fixed field manager, reads that answer `undefined` for 404, deletes that treat 404 as
 * done, merge patches on the `/status` subresource. Reconcilers depend on this interface only,
 * so a different client could replace it.
 */
export const FIELD_MANAGER = 'pika-operator';

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string | undefined;
  /** The resource's plural, when it is not one of the kinds this operator knows. */
  readonly plural?: string | undefined;
}

export interface Kube {
  /** Server-side apply: `obj` holds exactly the fields this operator owns. */
  apply<T extends KubernetesObject>(obj: T, fieldManager?: string): Promise<T>;
  /** `T` may be a CRD type (timestamps as strings, as on the wire). */
  get<T extends object = KubernetesObject>(ref: ObjectRef): Promise<T | undefined>;
  /** Deletes; true when it existed. */
  remove(ref: ObjectRef): Promise<boolean>;
  /** JSON merge patch of the `/status` subresource of a custom resource. */
  patchStatus(ref: ObjectRef, status: Record<string, unknown>): Promise<void>;
  /** JSON merge patch of the object itself (finalizers, annotations). */
  mergePatch(ref: ObjectRef, patch: Record<string, unknown>): Promise<void>;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof ApiException && err.code === 409;
}

function header(ref: ObjectRef): KubernetesObject {
  return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }) } };
}

export function createKube(kc: KubeConfig): Kube {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const customs = kc.makeApiClient(CustomObjectsApi);

  async function statusPatch(ref: ObjectRef, status: Record<string, unknown>): Promise<void> {
    const [group = '', version = ''] = ref.apiVersion.split('/');
    const plural = ref.plural ?? pluralOf(ref.kind);
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    if (ref.namespace === undefined) await customs.patchClusterCustomObjectStatus({ group, version, plural, name: ref.name, body: { status } }, merge);
    else await customs.patchNamespacedCustomObjectStatus({ group, version, plural, namespace: ref.namespace, name: ref.name, body: { status } }, merge);
  }

  return {
    apply: (obj, fieldManager = FIELD_MANAGER) => objects.patch(obj, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply),
    async get<T extends object = KubernetesObject>(ref: ObjectRef) {
      try {
        return (await objects.read<KubernetesObject>(header(ref) as KubernetesObject & { metadata: { name: string; namespace: string } })) as T;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async remove(ref) {
      try {
        await objects.delete(header(ref));
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },
    patchStatus: statusPatch,
    async mergePatch(ref, patch) {
      // The patch's metadata (finalizers, annotations) merges into the header: name and namespace stay.
      const metadata = { ...(patch.metadata as Record<string, unknown> | undefined), name: ref.name, ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }) };
      await objects.patch({ ...patch, apiVersion: ref.apiVersion, kind: ref.kind, metadata }, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
    },
  };
}

/** Plurals of the kinds this operator touches. */
export function pluralOf(kind: string): string {
  const known: Record<string, string> = {
    PikaServer: 'pikaservers',
    ClusterPikaServer: 'clusterpikaservers',
    PikaConfig: 'pikaconfigs',
    PikaToken: 'pikatokens',
    UnlockRequest: 'unlockrequests',
    Secret: 'secrets',
    ConfigMap: 'configmaps',
    Deployment: 'deployments',
    StatefulSet: 'statefulsets',
    DaemonSet: 'daemonsets',
    Lease: 'leases',
    Event: 'events',
  };
  const plural = known[kind];
  if (!plural) throw new Error(`unknown kind ${kind}`);
  return plural;
}
