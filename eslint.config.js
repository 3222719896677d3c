// Lint enforces shape, not taste: type-checked rules, the import boundaries of SPEC §2
// (server and operator never import each other; both may import src/shared), and caps on
// complexity so files stay one concept each.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';

const boundary = (forbidden, message) => ({
  'no-restricted-imports': ['error', { patterns: forbidden.map((group) => ({ group: [group], message })) }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', 'data/**', 'test-results/**', '.cache/**', 'coverage/**', 'bin/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    ignores: ['web/**'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      complexity: ['error', 15],
      'max-depth': ['error', 4],
      'max-params': ['error', 4],
      'no-console': 'error',
      // Fastify handlers are async by contract even when they return a value directly.
      '@typescript-eslint/require-await': 'off',
      // decodeJson<T>() style "typed parse" helpers are intentional.
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  { files: ['src/server/**'], rules: boundary(['**/operator/**', '**/web/**'], 'the server never imports the operator (SPEC §2)') },
  { files: ['src/operator/**'], rules: boundary(['**/server/**', '**/web/**'], 'the operator reaches the server over HTTP only (SPEC §2)') },
  // @kubernetes/client-node models are classes, but the API (and every example) takes plain objects.
  { files: ['src/operator/**', 'test/k8s/**'], rules: { '@typescript-eslint/no-unsafe-class-instance-assignment': 'off' } },
  { files: ['src/shared/**'], rules: boundary(['**/server/**', '**/operator/**'], 'shared is the contract; it depends on nothing else') },
  { files: ['test/e2e/**'], rules: boundary(['**/src/server/**', '**/src/operator/**'], 'e2e is black-box: only src/shared may be imported') },
  {
    files: ['**/*.test.ts', '**/*.contract.ts', '**/test-support/**', 'test/**', 'bench/**', 'scripts/**'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Tests read JSON response bodies by index; the assertions are the type checks.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      'max-params': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  // The console: Vue's rules and TypeScript's syntax rules; vue-tsc checks its types.
  ...pluginVue.configs['flat/recommended'].map((c) => ({ ...c, files: ['web/src/**/*.vue', 'web/src/**/*.ts'] })),
  {
    files: ['web/src/**/*.vue', 'web/src/**/*.ts', 'web/vite.config.ts'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' }, globals: { window: 'readonly', document: 'readonly', localStorage: 'readonly', fetch: 'readonly', URL: 'readonly', Blob: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', navigator: 'readonly', console: 'readonly' } },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/consistent-type-imports': 'error',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/multi-word-component-names': 'off',
      'no-console': 'error',
      // TypeScript (vue-tsc) resolves DOM names; ESLint's no-undef does not know them.
      'no-undef': 'off',
    },
  },
);
