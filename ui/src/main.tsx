import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import App from './App';
import { loadVocabulary } from './lib/vocabulary';
import './styles.css';

// labels come from the platform's vocabulary: load it once, then render
void loadVocabulary().then(() => {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
});
