import { describe, expect, it } from 'vitest';
import { ROLE_CODES, canModel, laneName, roleName, roleNames } from './roles';

describe('role names', () => {
  it('names every contract role in Chinese', () => {
    expect(ROLE_CODES).toEqual([
      'county_specialist', 'county_admin', 'township_doctor', 'township_public_health', 'village_doctor',
      'pharmacist', 'supervisor', 'process_owner', 'trainer', 'patient', 'integration', 'education_head',
      'researcher',
    ]);
    for (const code of ROLE_CODES) expect(roleName(code)).toMatch(/[\u4e00-\u9fff]/);
  });

  it('shows an unknown code as it is and joins several', () => {
    expect(roleName('auditor')).toBe('auditor');
    expect(roleNames(['village_doctor', 'pharmacist'])).toBe('村医、药师');
    expect(roleName(undefined)).toBe('');
  });
});

import { canRunScreening, canScreen, canSeeFollowUps, canSeeIntegrations } from './roles';

describe('new pages by role', () => {
  it('shows follow-ups to doctors and supervisors, not pharmacists', () => {
    expect(canSeeFollowUps(['village_doctor'])).toBe(true);
    expect(canSeeFollowUps(['supervisor'])).toBe(true);
    expect(canSeeFollowUps(['pharmacist'])).toBe(false);
  });
  it('screening and integrations', () => {
    expect(canScreen(['supervisor'])).toBe(true);
    expect(canRunScreening(['supervisor'])).toBe(false);
    expect(canRunScreening(['township_public_health'])).toBe(true);
    expect(canSeeIntegrations(['county_admin'])).toBe(true);
    expect(canSeeIntegrations(['village_doctor'])).toBe(false);
  });
});

describe('landing by role (issue 22.5)', () => {
  it('lands each role on its own home', async () => {
    const { landingPath, TODAY_FOLLOW_UPS } = await import('./roles');
    expect(landingPath(['patient'])).toBe('/portal');
    expect(landingPath(['village_doctor'])).toBe(TODAY_FOLLOW_UPS);
    expect(TODAY_FOLLOW_UPS).toMatch(/^\/inbox\?process_id=follow_up/);
    expect(landingPath(['supervisor'])).toBe('/dashboards');
    expect(landingPath(['trainer'])).toBe('/training');
    expect(landingPath(['education_head'])).toBe('/training');
    expect(landingPath(['researcher'])).toBe('/research');
    expect(landingPath(['township_doctor'])).toBe('/inbox');
    expect(landingPath(['county_admin'])).toBe('/inbox');
    expect(landingPath([])).toBe('/inbox');
  });
  it('knows the portal is another app (a page load, not a client-side route)', async () => {
    const { isSeparateApp } = await import('./roles');
    expect(isSeparateApp('/portal')).toBe(true);
    expect(isSeparateApp('/portal/family')).toBe(true);
    expect(isSeparateApp('/portals')).toBe(false);
    expect(isSeparateApp('/inbox')).toBe(false);
  });
  it('with several roles the broader work wins', async () => {
    const { landingPath } = await import('./roles');
    expect(landingPath(['trainer', 'county_specialist'])).toBe('/inbox');
    expect(landingPath(['village_doctor', 'township_doctor'])).toBe('/inbox');
    expect(landingPath(['village_doctor', 'supervisor'])).toBe('/dashboards');
    expect(landingPath(['patient', 'village_doctor'])).not.toBe('/portal');
  });
});

describe('menus by role (issue 22.5)', () => {
  const paths = async (roles: string[]) => (await import('./roles')).menuFor(roles).map((e) => e.to);
  it('a patient-only account has no staff menu', async () => {
    expect(await paths(['patient'])).toEqual([]);
  });
  it('a village doctor sees the work of a village doctor only', async () => {
    expect(await paths(['village_doctor'])).toEqual(['/inbox', '/follow-ups', '/m/', '/residents', '/referrals', '/consults', '/contracts', '/liaison/week', '/anticoag', '/training/my']);
  });
  it('village and township doctors open the offline follow-up app from the menu (a page load: another app)', async () => {
    const { menuFor } = await import('./roles');
    for (const role of ['village_doctor', 'township_doctor']) {
      expect(menuFor([role]).find((e) => e.to === '/m/')).toEqual({ to: '/m/', label: '离线随访', external: true });
    }
    for (const role of ['pharmacist', 'supervisor', 'process_owner', 'trainer']) expect(await paths([role])).not.toContain('/m/');
  });
  it('the county administrator keeps the expert rota; a township doctor books and drafts plans (issue 21.6)', async () => {
    const admin = await paths(['county_admin']);
    expect(admin).toContain('/liaison/rota');
    expect(admin).toContain('/liaison/plans');
    expect(admin).not.toContain('/liaison/week');
    const township = await paths(['township_doctor']);
    expect(township).toContain('/liaison/week');
    expect(township).toContain('/liaison/plans');
    expect(township).not.toContain('/liaison/rota');
  });
  it('a supervisor sees monitoring, quality and statistics, not the modeler', async () => {
    const menu = await paths(['supervisor']);
    for (const p of ['/dashboards', '/quality', '/instances', '/screening', '/integrations', '/training']) expect(menu).toContain(p);
    expect(menu).not.toContain('/modeler');
  });
  it('a process owner models; a trainer trains; neither sees residents', async () => {
    expect(await paths(['process_owner'])).toEqual(['/inbox', '/instances', '/modeler', '/training/my', '/dashboards']);
    expect(await paths(['trainer'])).toEqual(['/inbox', '/training']);
  });
  it('a pharmacist sees no statistics and no follow-ups; keeps the stores (库存与耗材) and supervises anticoagulants', async () => {
    expect(await paths(['pharmacist'])).toEqual(['/inbox', '/residents', '/pharmacy', '/anticoag', '/supply', '/training/my']);
  });
  it('抗凝管理: pharmacists and the doctors of the patients, not trainers or process owners', async () => {
    for (const role of ['pharmacist', 'county_specialist', 'township_doctor', 'village_doctor', 'supervisor', 'county_admin']) expect(await paths([role])).toContain('/anticoag');
    for (const role of ['trainer', 'process_owner', 'township_public_health']) expect(await paths([role])).not.toContain('/anticoag');
  });
  it('stock and UDI scanning: store keepers and the clinicians who scan, not village doctors or trainers', async () => {
    for (const role of ['pharmacist', 'county_specialist', 'township_doctor', 'supervisor', 'county_admin']) expect(await paths([role])).toContain('/supply');
    for (const role of ['village_doctor', 'trainer', 'process_owner']) expect(await paths([role])).not.toContain('/supply');
  });
});

describe('canModel (issue 14.13)', () => {
  it('opens the modeler to process owners and the county admin only', () => {
    expect(canModel(['process_owner'])).toBe(true);
    expect(canModel(['county_admin'])).toBe(true);
    expect(canModel(['village_doctor'])).toBe(false);
    expect(canModel(['supervisor', 'township_doctor'])).toBe(false);
  });
});

describe('laneName', () => {
  it('shows a lane titled in two languages by its Chinese words only', () => {
    expect(laneName('邀请方 requester')).toBe('邀请方');
    expect(laneName('受邀方医务科 invited (supervisor)')).toBe('受邀方医务科');
    expect(laneName('邀请方审核 requester review')).toBe('邀请方审核');
    expect(laneName(null)).toBe('');
  });

  it('shows a role lane by the role\'s name and an English-only lane as nothing (the task page once showed "trainee")', () => {
    expect(laneName('education_head')).toBe(roleName('education_head'));
    expect(laneName('education_head')).not.toMatch(/[A-Za-z]/);
    expect(laneName('trainee')).toBe('');
    expect(laneName('system')).toBe('');
  });
});
