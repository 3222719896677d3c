import type { RouteRecordRaw } from 'vue-router';

export interface NavEntry {
  to: string;
  label: string;
  /** Shown only to callers holding this capability (the server checks every request anyway). */
  capability?: string;
}

export interface AreaRoutes {
  routes: RouteRecordRaw[];
  nav: NavEntry[];
}
