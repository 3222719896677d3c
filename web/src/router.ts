import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';
import { useSession } from '~/composables/useSession.ts';
import { accessArea } from '~/routes/access.ts';
import { configsArea } from '~/routes/configs.ts';
import { settingsArea } from '~/routes/settings.ts';

export const AREAS = [configsArea, accessArea, settingsArea];

/**
 * Hash routing keeps one build valid under any base path. Pages load lazily so the editor and
 * the settings screens stay out of the first download. `meta.capability` hides what the caller
 * may not use; the server still checks every request.
 */
const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/configs' },
  { path: '/login', component: () => import('~/pages/LoginPage.vue'), meta: { public: true } },
  { path: '/setup', component: () => import('~/pages/SetupPage.vue'), meta: { public: true } },
  { path: '/unlock', component: () => import('~/pages/UnlockPage.vue'), meta: { public: true } },
  { path: '/configs/:path(.*)*', component: () => import('~/pages/ConfigsPage.vue'), meta: { capability: 'files.read' } },
  ...AREAS.flatMap((area) => area.routes),
  { path: '/about', component: () => import('~/pages/AboutPage.vue') },
  { path: '/:pathMatch(.*)*', redirect: '/configs' },
];

export const router = createRouter({ history: createWebHashHistory(), routes });

router.beforeEach(async (to) => {
  const session = useSession();
  if (!session.state.loaded) await session.refresh();
  if (session.state.info?.setup_required) return to.path === '/setup' ? true : '/setup';
  if (session.state.locked && to.path !== '/unlock' && to.path !== '/login') return '/unlock';
  if (to.meta.public) return true;
  if (!session.signedIn.value) return { path: '/login', query: { next: to.fullPath } };
  const capability = to.meta.capability as string | undefined;
  return capability === undefined || session.can(capability) ? true : '/about';
});
