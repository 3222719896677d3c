import { ref, watchEffect } from 'vue';

export type ThemeChoice = 'light' | 'dark' | 'system';
const KEY = 'pika.theme';
const choice = ref<ThemeChoice>((localStorage.getItem(KEY) as ThemeChoice | null) ?? 'system');
const media = window.matchMedia('(prefers-color-scheme: dark)');
const systemDark = ref(media.matches);
media.addEventListener('change', (e) => (systemDark.value = e.matches));

watchEffect(() => {
  const dark = choice.value === 'dark' || (choice.value === 'system' && systemDark.value);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  localStorage.setItem(KEY, choice.value);
});

/** Light / dark / follow the system, remembered per browser. */
export function useTheme() {
  return { choice };
}
