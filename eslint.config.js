// Flat config. Small on purpose: the type checker does most of the work; lint
// adds what it cannot see (floating promises, promises where a callback
// expects void) and the architecture rules (no deep imports, services never
// import each other, pure domain code). scripts/check-deps.mjs enforces the
// same architecture rules on every import form, package.json and cycles.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// the services' package names (services/worker is @errand/worker-service: @errand/worker is the SDK package)
const SERVICES = ['intake', 'scheduler', 'worker-service', 'notifier'];
const TS_FILES = ['packages/*/src/**/*.ts', 'services/*/src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'];

const deepImports = {
  group: ['@errand/*/src', '@errand/*/src/*', '@errand/*/src/**'],
  message: 'Import the package by its name (its one entry, src/index.ts), never a deep path.',
};
const servicePackages = {
  group: SERVICES.map((s) => `@errand/${s}`),
  message: 'Services never import each other (nor do packages import a service): they meet only on JetStream subjects.',
};
const restricted = (...patterns) => ['error', { patterns }];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.data/**', 'coverage/**'] },
  {
    files: TS_FILES,
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'warn' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      'no-empty': ['error', { allowEmptyCatch: true }],
      'no-constant-condition': ['error', { checkLoops: false }],
      'no-restricted-imports': restricted(deepImports),
    },
  },
  {
    files: ['packages/*/src/**/*.ts', 'services/*/src/**/*.ts'],
    rules: { 'no-restricted-imports': restricted(deepImports, servicePackages) },
  },
  {
    // tests poke at untyped JSON answers all the time: `any` there is noise
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['services/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': restricted(deepImports, servicePackages, {
        group: ['node:*', '@nats-io/*', 'fastify', 'fastify/*', '@fastify/*'],
        message: 'domain/ is pure: no I/O, no NATS, no fastify (time and ids come in as arguments).',
      }),
    },
  },
  {
    // the plain-Node scripts: no types, no dependencies
    files: ['scripts/**/*.mjs', 'eslint.config.js'],
    extends: [js.configs.recommended],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: Object.fromEntries(
        ['process', 'console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'URL', 'fetch', 'AbortSignal', 'Buffer', 'TextDecoder', 'TextEncoder'].map((g) => [g, 'readonly']),
      ),
    },
    rules: {
      'no-empty': ['error', { allowEmptyCatch: true }],
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
);
