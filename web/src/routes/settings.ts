import type { AreaRoutes } from './area.ts';

/** Routes and navigation of the settings area (pages load lazily). */
export const settingsArea: AreaRoutes = {
  routes: [],
  nav: [],
};
