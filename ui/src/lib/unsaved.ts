/** Leaving the modeler with edits not yet deployed asks first (issue 14.13). */
import { useEffect } from 'react';

export const LEAVE_MESSAGE = '有尚未部署的修改，离开后将丢失。确定离开吗？';

/** Whether following this link leaves the page the user is editing on (another path, or another model). */
export function leavesPage(href: string | null | undefined, target: string | null | undefined, current: URL): boolean {
  if (!href || href.startsWith('#') || (target && target !== '_self')) return false;
  if (href.startsWith('blob:') || href.startsWith('data:')) return false;
  let to: URL;
  try {
    to = new URL(href, current);
  } catch {
    return false;
  }
  return to.origin !== current.origin || to.pathname !== current.pathname || to.search !== current.search;
}

/** While `dirty`: the browser asks before a reload or closing the tab; the app asks before a link leaves and when
 * the back button would. */
export function useLeaveGuard(dirty: boolean): void {
  useEffect(() => {
    if (!dirty) return;
    const beforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    const onClick = (e: MouseEvent) => {
      const a = (e.target as Element | null)?.closest?.('a');
      if (!a || e.defaultPrevented) return;
      if (!leavesPage(a.getAttribute('href'), a.getAttribute('target'), new URL(window.location.href))) return;
      if (!window.confirm(LEAVE_MESSAGE)) {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    // the browser's back button: a guard entry for the same address, so going back first lands here again and asks
    window.history.pushState(window.history.state, '', window.location.href);
    const onPop = () => {
      if (window.confirm(LEAVE_MESSAGE)) {
        window.removeEventListener('popstate', onPop);
        window.history.back();
      } else {
        window.history.pushState(window.history.state, '', window.location.href);
      }
    };
    window.addEventListener('beforeunload', beforeUnload);
    window.addEventListener('popstate', onPop);
    document.addEventListener('click', onClick, true);
    return () => {
      window.removeEventListener('beforeunload', beforeUnload);
      window.removeEventListener('popstate', onPop);
      document.removeEventListener('click', onClick, true);
    };
  }, [dirty]);
}
