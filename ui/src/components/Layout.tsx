import { useCallback, useEffect, useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth';
import { platformClock, tasks } from '../api/endpoints';
import type { TaskCounts } from '../api/types';
import { canModel, menuFor, orgLevelName, roleNames } from '../lib/roles';

export const TASKS_CHANGED = 'ygt:tasks-changed';

/** Tell the header that task counts may have changed (after claim, complete, …). */
export function announceTasksChanged(): void {
  window.dispatchEvent(new Event(TASKS_CHANGED));
}

/** A header count: the API counts at most 1,000 open tasks per view ("999+" beyond). */
function badge(n: number): string {
  return n > 999 ? '999+' : String(n);
}

function useTaskCounts(enabled: boolean): TaskCounts | null {
  const [counts, setCounts] = useState<TaskCounts | null>(null);
  const load = useCallback(() => {
    if (!enabled) return;
    tasks.counts().then(setCounts, () => setCounts(null));
  }, [enabled]);
  useEffect(() => {
    load();
    const timer = window.setInterval(load, 60000);
    window.addEventListener(TASKS_CHANGED, load);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener(TASKS_CHANGED, load);
    };
  }, [load]);
  return counts;
}

/** Whether the platform clock may be moved here (the embedded demo/test install): only then 平台时钟 is in the menu. */
function useClockControl(asked: boolean): boolean {
  const [enabled, setEnabled] = useState(false);
  useEffect(() => {
    if (!asked) return;
    platformClock.get().then((c) => setEnabled(!!c.enabled), () => setEnabled(false));
  }, [asked]);
  return asked && enabled;
}

export default function Layout() {
  const { me, logout } = useAuth();
  const navigate = useNavigate();
  const roles = me?.roles ?? [];
  const counts = useTaskCounts(!!me);
  const clockControl = useClockControl(canModel(roles));

  const onLogout = async () => {
    await logout();
    navigate('/login', { replace: true });
  };

  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">✚</span>
          <span className="brand-name">医共体协同平台</span>
        </div>
        <nav className="main-nav" aria-label="主导航">
          {menuFor(roles).map((entry) => entry.external ? (
            <a key={entry.to} href={entry.to}>{entry.label}</a>
          ) : (
            <NavLink key={entry.to} to={entry.to} end={entry.end} className={({ isActive }) => (isActive ? 'active' : '')}>
              {entry.label}
              {entry.count && counts && counts.mine > 0 && <span className="nav-count" data-testid="count-mine">{badge(counts.mine)}</span>}
            </NavLink>
          ))}
          {clockControl && (
            <NavLink to="/clock" className={({ isActive }) => (isActive ? 'active' : '')} data-testid="nav-clock">
              平台时钟
            </NavLink>
          )}
        </nav>
        <div className="user-box">
          {counts && (
            <div className="counts" aria-label="任务数">
              <span title="我的待办">我的 {badge(counts.mine)}</span>
              <span title="组内可领取">组内 {badge(counts.groups)}</span>
              {counts.org > 0 && <span title="本机构">机构 {badge(counts.org)}</span>}
              <span className={counts.overdue > 0 ? 'overdue' : ''} title="已逾期">逾期 {badge(counts.overdue)}</span>
            </div>
          )}
          <div className="who">
            <span className="who-name" data-testid="user-name">{me?.display_name || me?.username}</span>
            <span className="who-meta">
              {me?.org?.name}
              {me?.org?.level ? `（${orgLevelName(me.org.level)}）` : ''} · {roleNames(roles) || '未分配角色'}
            </span>
          </div>
          <button type="button" className="btn btn-small btn-ghost" onClick={onLogout}>
            退出
          </button>
        </div>
      </header>
      <main className="app-main">
        <Outlet />
      </main>
    </div>
  );
}
