import { describe, expect, it } from 'vitest';
import { DISEASES, RISK_LEVELS, label } from './labels';
import { ROLE_CODES, roleName } from './roles';
import { setVocabulary, vocabMap } from './vocabulary';

describe('the platform vocabulary', () => {
  it('labels codes and their old aliases, but lists only the codes', () => {
    expect(label(DISEASES, 't2dm')).toBe('2型糖尿病');
    expect(label(DISEASES, 'dm')).toBe('2型糖尿病');
    expect(Object.keys(DISEASES)).not.toContain('dm');
    expect(label(RISK_LEVELS, 'MEDIUM')).toBe('中危');
    expect(label(RISK_LEVELS, 'UNKNOWN')).toBe('UNKNOWN');
  });

  it('refills the same maps when a new vocabulary arrives', () => {
    const roles = vocabMap('role');
    setVocabulary({ role: [{ code: 'auditor', label: '审计员' }] });
    expect(roleName('auditor')).toBe('审计员');
    expect(ROLE_CODES).toEqual(['auditor']);
    expect(roles).toBe(vocabMap('role'));
  });
});
