/**
 * The menu (menuFor) and the server's page gate (app/web.py ROLE_PAGES) must agree: a menu never offers a page the
 * server refuses, and a page the server opens to a role is in that role's menu when it is a menu page at all.
 * `src/test/role_pages.json` is the server's table, written by tests/api/test_role_pages.py (which fails when it is
 * stale); the offline app's roles are those its API accepts (app/mobile MOBILE_ROLES).
 */
import { describe, expect, it } from 'vitest';
import table from '../test/role_pages.json';
import { ROLE_CODES, menuFor } from './roles';

const pages = table.pages as Record<string, string[]>;

/** the ROLE_PAGES prefix that gates a path: the first listed that matches, as app/web.py looks it up */
function gate(path: string): string | undefined {
  const bare = path.split('?')[0].replace(/\/$/, '') || '/';
  return Object.keys(pages).find((p) => bare === p || bare.startsWith(`${p}/`));
}

const STAFF = ROLE_CODES.filter((r) => r !== 'patient' && r !== 'integration');

describe('menu and server page gate agree', () => {
  it('never offers a page the server refuses', () => {
    const wrong: string[] = [];
    for (const role of STAFF) {
      for (const entry of menuFor([role])) {
        if (entry.to === table.offline_app.path) {
          if (!table.offline_app.roles.includes(role)) wrong.push(`${role} → ${entry.to} (the mobile API refuses)`);
          continue;
        }
        const prefix = gate(entry.to);
        if (prefix && !pages[prefix].includes(role)) wrong.push(`${role} → ${entry.to} (ROLE_PAGES ${prefix})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('offers every menu page the server opens to the role', () => {
    const menuPages = new Set(STAFF.flatMap((r) => menuFor([r]).map((e) => e.to)));
    const missing: string[] = [];
    for (const [prefix, roles] of Object.entries(pages)) {
      if (!menuPages.has(prefix)) continue;
      for (const role of roles) {
        if (role === 'patient') continue; // a patient's pages live in the portal, it has no staff menu
        if (!menuFor([role]).some((e) => e.to === prefix)) missing.push(`${role} lacks ${prefix}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the table is the server one (sanity: the gate covers the menu pages)', () => {
    expect(gate('/residents/12')).toBe('/residents');
    expect(gate('/referrals/dashboard')).toBe('/referrals/dashboard');
    expect(table.offline_app.path).toBe('/m/');
  });
});
