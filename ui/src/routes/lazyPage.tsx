import { lazy, Suspense, type ComponentType } from 'react';

/** The one fallback every code-split page shows while its chunk loads: tiny, no imports, keeps the header in place. */
export function PageFallback() {
  return (
    <div className="state state-loading" role="status" aria-live="polite" data-testid="page-loading">
      <span className="spinner" aria-hidden="true" />
      加载中…
    </div>
  );
}

/**
 * A route page loaded only when opened (React.lazy), wrapped in its own Suspense boundary, so a village doctor's
 * phone downloads the code of the pages it uses and nothing else (issue 22.3). Add every new page this way:
 *
 *   const ConsultPage = lazyPage(() => import('../pages/consult/ConsultPage'));
 *   <Route path="consult/:id" element={<ConsultPage />} />
 */
export function lazyPage<P extends object = Record<string, never>>(load: () => Promise<{ default: ComponentType<P> }>) {
  const Page = lazy(load);
  function LazyPage(props: P) {
    return (
      <Suspense fallback={<PageFallback />}>
        <Page {...props} />
      </Suspense>
    );
  }
  return LazyPage;
}
