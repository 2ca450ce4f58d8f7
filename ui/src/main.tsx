import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import App from './App';
import { loadVocabulary } from './lib/vocabulary';
import { startPrefetch } from './routes/prefetch';
import './styles.css';

// what the first screen needs is asked for alongside the vocabulary, not after it (issue 22.3: slow networks)
startPrefetch(window.location.pathname);
// labels come from the platform's vocabulary: load it once, then render
void loadVocabulary().then(async () => {
  // the resident portal (/portal, issue 21) is its own H5 app with its own sign-in; it loads only when opened
  const Root = window.location.pathname.startsWith('/portal') ? (await import('./portal/PortalApp')).default : App;
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <Root />
    </StrictMode>,
  );
});
