/**
 * The village doctor's offline app (issue 22.2, docs/mobile.md "Client"): its own build at /m/, separate from
 * the staff UI (ui/vite.config.ts), so the phone downloads and caches only this app.
 *
 * Service worker: vite-plugin-pwa with `injectManifest` (Workbox 7 underneath). It writes the precache list of
 * this build's content-hashed files into our own src/mobile/sw.ts, so the SW stays ours (no API caching: the data
 * lives in IndexedDB and the outbox belongs to the app) and updates only when the doctor agrees (registerType
 * 'prompt': a half-filled form is never reloaded away).
 */
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('./src/mobile', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/m', import.meta.url));
const backend = process.env.YGT_BACKEND ?? 'http://127.0.0.1:5000';

export default defineConfig({
  root,
  base: '/m/',
  publicDir: 'public',
  plugins: [
    react(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: '.',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      scope: '/m/',
      base: '/m/',
      manifestFilename: 'manifest.webmanifest',
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,png,svg,webmanifest}'],
        maximumFileSizeToCacheInBytes: 3 * 1024 * 1024,
      },
      manifest: {
        id: '/m/',
        name: '医共体 · 村医随访',
        short_name: '村医随访',
        description: '乡村医生离线随访：无网络时也能办理随访、录入血压血糖，联网后自动同步。',
        lang: 'zh-CN',
        start_url: '/m/',
        scope: '/m/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#ffffff',
        theme_color: '#0b5cad',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
    }),
  ],
  resolve: {
    // rjsf's markdown renderer is never used by our forms (the staff build does the same, ui/vite.config.ts)
    alias: { 'markdown-to-jsx/react': fileURLToPath(new URL('./src/components/form/plainMarkdown.tsx', import.meta.url)) },
  },
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: 'assets',
  },
  server: {
    proxy: { '/api': { target: backend, changeOrigin: false } },
  },
});
