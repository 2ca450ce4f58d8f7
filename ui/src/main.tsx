import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import App from './App';
import { loadVocabulary } from './lib/vocabulary';
import { startPrefetch } from './routes/prefetch';
import './styles.css';

// what the first screen needs is asked for alongside the vocabulary, not after it (issue 22.3: slow networks)
startPrefetch(window.location.pathname);
// labels come from the platform's vocabulary: load it once, then render
void loadVocabulary().then(() => {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
});
