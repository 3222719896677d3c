import { ref } from 'vue';
import { listBundles, type Bundle } from '~/api/bundles.ts';
import { createUser, listUsers, type User, type UserInput } from '~/api/users.ts';
import { useTask } from '~/composables/useTask.ts';

const PAGE = 25;

/**
 * The user list (filter by username, paged) and creating users. Bundles are loaded too when the
 * caller may see them (`permissions.manage`), to name them and to grant them at creation.
 */
export function useUsers(options: { withBundles: boolean }) {
  const users = ref<User[]>([]);
  const total = ref(0);
  const offset = ref(0);
  const filter = ref('');
  const bundles = ref<Bundle[]>([]);
  const loading = ref(false);
  const loaded = ref(false);
  const { busy, run } = useTask();

  async function load(): Promise<void> {
    loading.value = true;
    await run(async () => {
      const [page, all] = await Promise.all([
        listUsers({ username: filter.value.trim() || undefined, _limit: PAGE, _offset: offset.value }),
        options.withBundles && !loaded.value ? listBundles() : Promise.resolve(undefined),
      ]);
      users.value = page.users;
      total.value = page.total;
      if (all) bundles.value = all.sort((a, b) => a.key.localeCompare(b.key));
      loaded.value = true;
    });
    loading.value = false;
  }

  async function search(text: string): Promise<void> {
    filter.value = text;
    offset.value = 0;
    await load();
  }

  async function page(direction: 1 | -1): Promise<void> {
    offset.value = Math.max(0, offset.value + direction * PAGE);
    await load();
  }

  /** Resolves the new user, or undefined when the server refused. */
  async function create(input: UserInput): Promise<User | undefined> {
    let user: User | undefined;
    const ok = await run(async () => {
      user = await createUser(input);
    }, `User ${input.username} created`);
    if (ok) await load();
    return user;
  }

  return { users, total, offset, filter, bundles, loading, loaded, busy, load, search, page, create, pageSize: PAGE };
}
