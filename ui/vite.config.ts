/// <reference types="vitest/config" />
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Flask serves dist/index.html for the UI routes and dist/assets/* for the bundle,
// so every asset URL is absolute from the site root.
const backend = process.env.YGT_BACKEND ?? 'http://127.0.0.1:5000';
const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Brotli (quality 11) and gzip (level 9) twins of every hashed text asset, written once at build time: the server
 * sends them as they are (app/web.py ui_asset), ~15 % smaller than per-request brotli at flask-compress's quality 4
 * and no CPU per request (issue 22.3: the phone follow-up route's initial JS budget is counted compressed).
 */
function precompress(): Plugin {
  return {
    name: 'ygt-precompress',
    apply: 'build',
    closeBundle() {
      const dir = path.join(here, 'dist', 'assets');
      for (const name of readdirSync(dir)) {
        if (!/\.(js|css|svg|json|wasm|map)$/.test(name) || name.endsWith('.map')) continue;
        const body = readFileSync(path.join(dir, name));
        if (body.length < 512) continue;
        const br = brotliCompressSync(body, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
        });
        writeFileSync(path.join(dir, `${name}.br`), br);
        writeFileSync(path.join(dir, `${name}.gz`), gzipSync(body, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  base: '/',
  plugins: [react(), precompress()],
  resolve: {
    // rjsf's markdown renderer is never used by our forms (see the stand-in's comment)
    alias: { 'markdown-to-jsx/react': path.join(here, 'src/components/form/plainMarkdown.tsx') },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    chunkSizeWarningLimit: 2500,
  },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/healthz': { target: backend },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['src/test/setup.ts'],
  },
});
