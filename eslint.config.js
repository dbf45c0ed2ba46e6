// Type-aware linting for the whole project (source, tests, benchmarks).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/out/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', 'bench/*.mjs'],
          // The benchmarks and this file: more than the default of 8 plain JS files.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Packet code does a lot of arithmetic on numbers inside template strings.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // Bit flags and byte math use these on purpose.
      'no-bitwise': 'off',
      // With noUncheckedIndexedAccess every typed-array read is \`T | undefined\`; the packet path
      // checks lengths before reading, so `!` states a checked fact rather than hiding one.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `return this.fail(problem)` ends a decoder step; the callee is void, so nothing is lost.
      '@typescript-eslint/no-confusing-void-expression': [
        'error',
        { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true },
      ],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
    },
  },
  {
    // The dashboard: the rules of hooks (and the React Compiler's checks that come with them).
    files: ['web/src/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat.recommended,
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
