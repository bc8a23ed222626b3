// Lint: type-aware typescript-eslint plus the module map of DESIGN.md, enforced as import rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Which src/ folders each folder may import (DESIGN.md "Module map"). Dependencies point down.
const allowed = {
  core: [],
  formats: ['core'],
  keys: ['core'],
  tlog: ['core'],
  store: ['core', 'formats'],
  attest: ['core', 'formats'],
  policy: ['core', 'formats'],
  sbom: ['core', 'formats'],
  vuln: ['core', 'formats'],
  source: ['core', 'formats', 'policy'],
  build: ['core', 'formats', 'attest', 'policy'],
  tuf: ['core', 'formats', 'policy', 'keys'],
};
const folders = [...Object.keys(allowed), 'server', 'cli'];

function layering(folder) {
  const forbidden = folders.filter((f) => f !== folder && !(allowed[folder] ?? folders).includes(f));
  const patterns = [];
  if (forbidden.length > 0) {
    patterns.push({
      regex: `^(\\.\\./)+(${forbidden.join('|')})/`,
      message: `src/${folder}/ may not import this folder (DESIGN.md module map).`,
    });
  }
  // Another folder is reached only through its index.ts (STYLE.md §14).
  patterns.push({
    regex: `^\\.\\./(${folders.join('|')})/(?!index\\.ts$)`,
    message: 'Import another folder only through its index.ts.',
  });
  if (folder === 'core') {
    // core/ imports nothing of ours and no packages: node built-ins and its own files only.
    patterns.push({ regex: '^(?!node:|\\./)', message: 'src/core/ may import node built-ins and its own files only.' });
  }
  return {
    files: [`src/${folder}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
}

export default tseslint.config(
  { ignores: ['eslint.config.js', 'node_modules/', 'dist/', 'web/dist/', 'bench/out/', '**/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      complexity: ['error', 20],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      complexity: 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['bin/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  ...folders.map(layering),
);
