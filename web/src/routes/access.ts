import type { AreaRoutes } from './area.ts';

/** Routes and navigation of the access area (pages load lazily). */
export const accessArea: AreaRoutes = {
  routes: [],
  nav: [],
};
