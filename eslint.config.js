// One lint setup for the whole workspace. Nx module boundaries are enforced by tag:
// apps may depend on libs; libs/protocol (scope:protocol) depends on nothing internal;
// libs/test-support (type:test-support) is for tests and the bench only, and depends on nothing
// internal either.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * The dependency rules by tag. Only test code (`tests`) may use type:test-support, so no helper
 * of it can leak into what ships; the libraries depend on nothing internal.
 */
function boundaries({ tests }) {
  const allowed = tests ? ['type:lib', 'type:test-support'] : ['type:lib'];
  return [
    'error',
    {
      allow: [],
      depConstraints: [
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: allowed },
        { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: allowed },
        { sourceTag: 'type:lib', onlyDependOnLibsWithTags: [] },
        { sourceTag: 'type:test-support', onlyDependOnLibsWithTags: [] },
      ],
    },
  ];
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.nx/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx, 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.base.json' })],
    },
    rules: {
      // An import circle hides which part depends on which: none anywhere.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
      '@nx/enforce-module-boundaries': boundaries({ tests: false }),
    },
  },
  {
    // Test code: the apps' and infra's tests, and the bench, a test harness as a whole.
    files: ['apps/*/test/**/*.ts', 'infra/test/**/*.ts', 'bench/**/*.ts', 'soak/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries({ tests: true }) },
  },
  {
    // The chaos soak drives the real client library (apps/cli's ChatClient) in-process; this
    // one file is where it reaches into the CLI app, and nothing else may.
    files: ['soak/src/actor.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // Config files may import the shared root config; they are not part of any project's code.
    files: ['**/vitest.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  prettier,
);
