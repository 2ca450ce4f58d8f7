import { describe, expect, it } from 'vitest';
import { ROLE_CODES, roleName, roleNames } from './roles';

describe('role names', () => {
  it('names every contract role in Chinese', () => {
    expect(ROLE_CODES).toEqual([
      'county_specialist', 'county_admin', 'township_doctor', 'township_public_health', 'village_doctor',
      'pharmacist', 'supervisor', 'process_owner', 'trainer', 'patient', 'integration',
    ]);
    for (const code of ROLE_CODES) expect(roleName(code)).toMatch(/[\u4e00-\u9fff]/);
  });

  it('shows an unknown code as it is and joins several', () => {
    expect(roleName('auditor')).toBe('auditor');
    expect(roleNames(['village_doctor', 'pharmacist'])).toBe('村医、药师');
    expect(roleName(undefined)).toBe('');
  });
});
