import { createApp } from 'vue';
import App from '~/App.vue';
import { onApiEvent } from '~/api/client.ts';
import { router } from '~/router.ts';
import '~/styles/base.css';

// Any response saying "locked" or "signed out", from any page, moves the app to the right screen.
onApiEvent((event) => {
  const here = router.currentRoute.value.path;
  if (event === 'locked' && here !== '/unlock') void router.push('/unlock');
  if (event === 'unauthenticated' && here !== '/login' && here !== '/setup') void router.push({ path: '/login', query: { next: router.currentRoute.value.fullPath } });
});

createApp(App).use(router).mount('#app');
