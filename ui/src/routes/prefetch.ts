/**
 * Boot-time prefetch (issue 22.3): on a phone with 2 s per request (Slow 3G) every request that waits for the one
 * before it costs seconds. At start-up the app asks, all at once and before React renders, for what the first
 * screen will need: who is signed in, and on a task route the task itself and its page's code. The page takes the
 * answer (once) instead of asking again; later loads and reloads ask the server as usual.
 */
import { auth, tasks } from '../api/endpoints';

const MAX_AGE_MS = 15000;
const started = new Map<string, { at: number; promise: Promise<unknown> }>();

function remember(key: string, promise: Promise<unknown>): void {
  promise.catch(() => undefined); // a failure is the taker's to show; never an unhandled rejection
  started.set(key, { at: Date.now(), promise });
}

/** The answer a boot-time request got (or will get), once; undefined when none was started or it is stale. */
export function takePrefetched<T>(key: string): Promise<T> | undefined {
  const hit = started.get(key);
  started.delete(key);
  if (!hit || Date.now() - hit.at > MAX_AGE_MS) return undefined;
  return hit.promise as Promise<T>;
}

/** Which boot-time requests a path asks for: `me` always; a task route its task and the task page's code. */
export function prefetchPlan(pathname: string): { me: boolean; taskId: string | null } {
  if (pathname === '/login' || pathname.startsWith('/login/')) return { me: false, taskId: null };
  const m = /^\/tasks\/([^/]+)\/?$/.exec(pathname);
  return { me: true, taskId: m ? decodeURIComponent(m[1]) : null };
}

export function startPrefetch(pathname: string): void {
  const plan = prefetchPlan(pathname);
  if (plan.me) remember('me', auth.me());
  if (plan.taskId) {
    remember(`task:${plan.taskId}`, tasks.get(plan.taskId));
    void import('../pages/TaskPage').catch(() => undefined);
  }
}
