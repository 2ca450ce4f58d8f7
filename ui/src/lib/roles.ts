/** Role codes of the platform contract (shared/DESIGN.md) and their names, from the platform's vocabulary. */
import { vocabCodes, vocabMap } from './vocabulary';

export const ROLE_NAMES = vocabMap('role');
export const ROLE_CODES = vocabCodes('role');

/** Chinese name of a role code; unknown codes are shown as they are. */
export function roleName(code: string | null | undefined): string {
  if (!code) return '';
  return ROLE_NAMES[code] ?? code;
}

/** Chinese names of several roles, joined for a header or a badge. */
export function roleNames(codes: readonly string[] | null | undefined, sep = '、'): string {
  return (codes ?? []).map(roleName).join(sep);
}

export const ORG_LEVEL_NAMES = vocabMap('org_level');

export function orgLevelName(level: string | null | undefined): string {
  if (!level) return '';
  return ORG_LEVEL_NAMES[level] ?? level;
}

/** Which parts of the UI a user may open, by role. The server enforces; this only hides links. */
export function canModel(roles: readonly string[]): boolean {
  return roles.includes('process_owner') || roles.includes('county_admin');
}

export function canSupervise(roles: readonly string[]): boolean {
  return ['supervisor', 'county_admin', 'process_owner'].some((r) => roles.includes(r));
}

/** Roles that may read resident records (process owners and trainers work on models and courses, not people). */
export function canSeeResidents(roles: readonly string[]): boolean {
  return roles.some((r) => r !== 'process_owner' && r !== 'trainer' && r !== 'education_head');
}

const any = (roles: readonly string[], wanted: readonly string[]) => wanted.some((r) => roles.includes(r));

/** The overdue follow-up list: doctors who do the visits and those who supervise them. */
export function canSeeFollowUps(roles: readonly string[]): boolean {
  return any(roles, ['village_doctor', 'township_doctor', 'township_public_health', 'county_specialist', 'supervisor', 'county_admin']);
}

/** The screening page (cases, prevention list). */
export function canScreen(roles: readonly string[]): boolean {
  return any(roles, ['county_admin', 'township_public_health', 'supervisor']);
}

/** Starting and watching population runs (the server's RUNNERS). */
export function canRunScreening(roles: readonly string[]): boolean {
  return any(roles, ['county_admin', 'township_public_health']);
}

/** Screening counts on the dashboards (the server's stats readers). */
export function canSeeScreeningStats(roles: readonly string[]): boolean {
  return any(roles, ['county_admin', 'county_specialist', 'supervisor', 'township_doctor', 'township_public_health']);
}

/** The overview of open emergency referrals (supervisors and the county admin). */
export function canSeeOpenEmergencies(roles: readonly string[]): boolean {
  return any(roles, ['county_admin', 'supervisor']);
}

/** 双向转诊 (the referral list per organisation): the doctors who send and receive, and those who supervise. */
export function canSeeReferrals(roles: readonly string[]): boolean {
  return any(roles, ['village_doctor', 'township_doctor', 'township_public_health', 'county_specialist', 'supervisor', 'county_admin']);
}

/** 转诊统计 (the referral dashboard; the server's stats readers). */
export function canSeeReferralStats(roles: readonly string[]): boolean {
  return any(roles, ['township_doctor', 'township_public_health', 'county_specialist', 'supervisor', 'county_admin']);
}

/** The integration screen, and replaying deliveries. */
export function canSeeIntegrations(roles: readonly string[]): boolean {
  return any(roles, ['county_admin', 'supervisor']);
}

/** 培训管理 (plans, sessions, item bank, statistics): trainers, the 科教科 head, supervisors and the county admin. */
export function canSeeTrainingAdmin(roles: readonly string[]): boolean {
  return any(roles, ['trainer', 'education_head', 'supervisor', 'county_admin']);
}

/** Making and changing plans (the server checks the organization too). */
export function canManageTraining(roles: readonly string[]): boolean {
  return any(roles, ['trainer', 'county_admin']);
}

/** Where a user lands after login: trainers and the 科教科 head on training work, everyone else on the inbox. */
export function landingPath(roles: readonly string[], residentId?: string | number | null): string {
  // a resident (patient account) lands on their own record, never on a staff inbox
  if (roles.includes('patient') && residentId !== undefined && residentId !== null && roles.every((r) => r === 'patient')) {
    return `/residents/${residentId}`;
  }
  const clinical = ['county_specialist', 'township_doctor', 'township_public_health', 'village_doctor', 'pharmacist', 'county_admin', 'supervisor', 'process_owner'];
  if (any(roles, ['trainer', 'education_head']) && !any(roles, clinical)) return '/training';
  return '/inbox';
}

/** The quality-control page (质控指标): supervisors, county administrators and township 公卫 staff. */
export function canSeeQuality(roles: readonly string[]): boolean {
  return any(roles, ['supervisor', 'county_admin', 'township_public_health']);
}
