/// <reference lib="webworker" />
/**
 * The village doctor app's service worker (scope /m/): precache the app shell (every content-hashed file of the
 * /m/ build, listed by vite-plugin-pwa at build time) and answer every /m/ navigation with the cached index.html,
 * so the app starts with the network off. API calls are not touched: the data is in IndexedDB.
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };

cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);
registerRoute(new NavigationRoute(createHandlerBoundToURL('/m/index.html'), { allowlist: [/^\/m(\/|$)/] }));

// the app asks before a new version takes over (a half-filled form must not be reloaded away)
self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});
