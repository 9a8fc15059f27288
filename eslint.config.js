// Lint rules: typescript-eslint's recommended set; unused variables are errors unless prefixed with _.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'out/', '.build/', 'node_modules/', 'coverage/', 'web/public/vendor/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', fetch: 'readonly', require: 'readonly', __filename: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // TypeScript already resolves every identifier in .ts files.
  { files: ['**/*.ts'], rules: { 'no-undef': 'off' } },
  {
    files: ['web/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'history', 'fetch', 'console', 'URLSearchParams', 'TextEncoder', 'setTimeout', 'clearTimeout', 'localStorage', 'navigator', 'HTMLElement', 'customElements', 'requestAnimationFrame', 'WebSocket', 'EventSource', 'Intl'].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    // Special-function coefficients are transcribed digit for digit from Cephes/scipy; the parser
    // rounds each to the nearest double exactly as the C compiler does for the reference, so the
    // extra digits are the source of truth, not a precision bug.
    files: ['src/drift/gamma.ts', 'src/drift/normal.ts', 'src/drift/kolmogorov.ts', 'src/drift/temme-coefficients.ts'],
    rules: { 'no-loss-of-precision': 'off' },
  },
);
