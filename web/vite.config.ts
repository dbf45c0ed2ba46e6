// Builds the dashboard into dist/web, which `flowtrack serve` serves beside the API.
// `npx vite --config web/vite.config.ts` runs it in development against a server on 127.0.0.1:8080.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    // Plain <script src> and <link href> only: the server's Content-Security-Policy allows no
    // inline code (assetsInlineLimit 0 keeps small files out of data: URLs in scripts too).
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
