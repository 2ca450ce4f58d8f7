import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Workbox } from 'workbox-window';
import App, { setUpdateHandler } from './App';
import './mobile.css';

// the service worker makes the app start offline; an update waits until the doctor taps 更新
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  const wb = new Workbox('/m/sw.js', { scope: '/m/' });
  wb.addEventListener('waiting', () => {
    setUpdateHandler(() => {
      wb.addEventListener('controlling', () => window.location.reload());
      wb.messageSkipWaiting();
    });
  });
  void wb.register();
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
