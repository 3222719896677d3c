import type { AreaRoutes } from './area.ts';

/**
 * Routes and navigation of the access area (pages load lazily): API tokens, users, permission
 * bundles — each behind the capability its API needs — and the account page for everyone.
 */
export const accessArea: AreaRoutes = {
  routes: [
    { path: '/tokens', component: () => import('~/pages/TokensPage.vue'), meta: { capability: 'tokens.manage' } },
    { path: '/users', component: () => import('~/pages/UsersPage.vue'), meta: { capability: 'users.manage' } },
    { path: '/users/:id', component: () => import('~/pages/UserDetailPage.vue'), meta: { capability: 'users.manage' }, props: true },
    { path: '/bundles', component: () => import('~/pages/BundlesPage.vue'), meta: { capability: 'permissions.manage' } },
    { path: '/account', component: () => import('~/pages/AccountPage.vue') },
  ],
  nav: [
    { to: '/tokens', label: 'Tokens', capability: 'tokens.manage' },
    { to: '/users', label: 'Users', capability: 'users.manage' },
    { to: '/bundles', label: 'Bundles', capability: 'permissions.manage' },
    { to: '/account', label: 'Account' },
  ],
};
