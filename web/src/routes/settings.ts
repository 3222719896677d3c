import type { AreaRoutes } from './area.ts';

/**
 * Routes and navigation of the settings area (pages load lazily): authentication strategies,
 * the server key, backup and restore, the audit log. All of it needs `settings.manage`; child
 * routes inherit the parent's `meta.capability`.
 */
export const settingsArea: AreaRoutes = {
  routes: [
    {
      path: '/settings',
      component: () => import('~/pages/SettingsPage.vue'),
      meta: { capability: 'settings.manage' },
      children: [
        { path: '', redirect: '/settings/auth' },
        { path: 'auth', component: () => import('~/pages/SettingsAuthPage.vue') },
        { path: 'key', component: () => import('~/pages/ServerKeyPage.vue') },
        { path: 'backup', component: () => import('~/pages/BackupPage.vue') },
        { path: 'audit', component: () => import('~/pages/AuditPage.vue') },
      ],
    },
  ],
  nav: [{ to: '/settings', label: 'Settings', capability: 'settings.manage' }],
};
