import { ref } from 'vue';
import { type Bundle, type BundleInput, createBundle, deleteBundle, listBundles, patchBundle } from '~/api/bundles.ts';
import { useTask } from '~/composables/useTask.ts';

/** Permission bundles: list, create, edit, delete (which also removes them from every user). */
export function useBundles() {
  const bundles = ref<Bundle[]>([]);
  const loading = ref(false);
  const loaded = ref(false);
  const { busy, run } = useTask();
  const byKey = (a: Bundle, b: Bundle) => a.key.localeCompare(b.key);

  async function load(): Promise<void> {
    loading.value = true;
    await run(async () => {
      bundles.value = (await listBundles()).sort(byKey);
      loaded.value = true;
    });
    loading.value = false;
  }

  function replace(bundle: Bundle): void {
    bundles.value = [...bundles.value.filter((b) => b.id !== bundle.id), bundle].sort(byKey);
  }

  const create = (input: BundleInput) => run(async () => replace(await createBundle(input)), `Bundle ${input.key} created`);
  const update = (bundle: Bundle, input: BundleInput) => run(async () => replace(await patchBundle(bundle.id, input)), `Bundle ${input.key} saved`);
  const remove = (bundle: Bundle) =>
    run(async () => {
      await deleteBundle(bundle.id);
      bundles.value = bundles.value.filter((b) => b.id !== bundle.id);
    }, `Bundle ${bundle.key} deleted`);

  return { bundles, loading, loaded, busy, load, create, update, remove };
}
