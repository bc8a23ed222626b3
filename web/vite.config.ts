// Builds the dashboard into web/dist, served by `custody serve` at /ui/ (src/server/plugins/web.ts).
// No CDN, no outside fetches: everything the page loads is in dist/.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Assets stay files (no data: URIs), served with the dashboard's CSP.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  // `vite dev` proxies the API to a local `custody serve`.
  server: { proxy: { '/v1': 'http://127.0.0.1:8420', '/log': 'http://127.0.0.1:8420', '/tuf': 'http://127.0.0.1:8420' } },
});
