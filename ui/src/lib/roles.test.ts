import { describe, expect, it } from 'vitest';
import { ROLE_CODES, canModel, roleName, roleNames } from './roles';

describe('role names', () => {
  it('names every contract role in Chinese', () => {
    expect(ROLE_CODES).toEqual([
      'county_specialist', 'county_admin', 'township_doctor', 'township_public_health', 'village_doctor',
      'pharmacist', 'supervisor', 'process_owner', 'trainer', 'patient', 'integration', 'education_head',
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

describe('training', () => {
  it('lands trainers and the 科教科 head on training work, clinicians on the inbox', async () => {
    const { landingPath } = await import('./roles');
    expect(landingPath(['trainer'])).toBe('/training');
    expect(landingPath(['education_head'])).toBe('/training');
    expect(landingPath(['village_doctor'])).toBe('/inbox');
    expect(landingPath(['trainer', 'county_specialist'])).toBe('/inbox');
    expect(landingPath(['patient'], 17)).toBe('/residents/17');
    expect(landingPath(['patient'])).toBe('/inbox');
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
