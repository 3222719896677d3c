import type { AreaRoutes } from './area.ts';

/** Routes and navigation of the configs area (pages load lazily). */
export const configsArea: AreaRoutes = {
  routes: [],
  nav: [],
};
