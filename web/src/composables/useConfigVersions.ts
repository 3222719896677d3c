import { ref } from 'vue';
import { type ConfigRef, deleteFile, listVersions, setConstraint, type VersionInfo } from '~/api/configs.ts';
import { useToasts } from '~/composables/useToasts.ts';

/** Version history of the open config: status, constraints (editable), soft delete. */
export function useConfigVersions(target: () => ConfigRef | undefined) {
  const versions = ref<VersionInfo[]>([]);
  const loading = ref(false);
  /** The version whose constraint or deletion is being sent. */
  const busyVersion = ref<number>();
  const { error, success } = useToasts();
  let seq = 0;

  async function load(): Promise<void> {
    const ref = target();
    const mine = ++seq;
    if (!ref) {
      versions.value = [];
      return;
    }
    loading.value = true;
    try {
      const list = await listVersions(ref);
      if (mine === seq) versions.value = [...list].sort((a, b) => b.version - a.version);
    } catch (err) {
      if (mine === seq) versions.value = [];
      error(err);
    } finally {
      if (mine === seq) loading.value = false;
    }
  }

  async function run(version: number, action: (ref: ConfigRef) => Promise<unknown>, done: string): Promise<boolean> {
    const ref = target();
    if (!ref) return false;
    busyVersion.value = version;
    try {
      await action(ref);
      success(done);
      await load();
      return true;
    } catch (err) {
      error(err);
      return false;
    } finally {
      busyVersion.value = undefined;
    }
  }

  const updateConstraint = (version: number, constraint: string) =>
    run(version, (ref) => setConstraint(ref, version, constraint.trim()), constraint.trim() ? `Version ${version} now targets ${constraint.trim()}` : `Cleared the constraint of version ${version}`);
  const remove = (version: number) => run(version, (ref) => deleteFile(ref, version), `Deleted version ${version}`);

  return { versions, loading, busyVersion, load, updateConstraint, remove };
}
