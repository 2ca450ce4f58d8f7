/** Role codes of the platform contract (shared/DESIGN.md) and their names, from the platform's vocabulary. */
import { vocabCodes, vocabMap } from './vocabulary';

export const ROLE_NAMES = vocabMap('role');
export const ROLE_CODES = vocabCodes('role');

/** Chinese name of a role code; unknown codes are shown as they are. */
export function roleName(code: string | null | undefined): string {
  if (!code) return '';
  return ROLE_NAMES[code] ?? code;
}

/** A lane's title as a clinician reads it: the role's Chinese name when the lane is a role code, else the title
 * without the modeller's English words (a lane titled "邀请方 requester" shows 邀请方). */
export function laneName(lane: string | null | undefined): string {
  if (!lane) return '';
  if (ROLE_NAMES[lane]) return ROLE_NAMES[lane];
  return lane.replace(/\(?[A-Za-z_][A-Za-z_ ]*\)?/g, '').replace(/\s+/g, ' ').trim();
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
  return roles.some((r) => r !== 'process_owner' && r !== 'trainer' && r !== 'education_head' && r !== 'researcher');
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
/** 家庭医生签约 (the contracting pages; the API's readers of contracts). */
export function canSeeContracts(roles: readonly string[]): boolean {
  return any(roles, ['village_doctor', 'township_doctor', 'township_public_health', 'supervisor', 'county_admin']);
}

export function canSeeReferrals(roles: readonly string[]): boolean {
  return any(roles, ['village_doctor', 'township_doctor', 'township_public_health', 'county_specialist', 'supervisor', 'county_admin']);
}

/** 远程会诊 (the consult list, request form, detail and expert workbench; app/web.py ROLE_PAGES "/consults"). */
export function canSeeConsults(roles: readonly string[]): boolean {
  return any(roles, ['village_doctor', 'township_doctor', 'county_specialist', 'supervisor', 'county_admin']);
}

/** 下沉专家排班 (the rota; app/web.py ROLE_PAGES "/liaison/rota"): 医务科 keeps it, experts and supervisors read it. */
export function canSeeLiaisonRota(roles: readonly string[]): boolean {
  return any(roles, ['county_admin', 'supervisor', 'county_specialist']);
}

/** 本周专家 (this week's expert and booking; ROLE_PAGES "/liaison/week"): the township and its villages. */
export function canSeeLiaisonWeek(roles: readonly string[]): boolean {
  return any(roles, ['township_doctor', 'township_public_health', 'village_doctor']);
}

/** 专科共建 (specialty-building plans; ROLE_PAGES "/liaison/plans"). */
export function canSeeSpecialtyPlans(roles: readonly string[]): boolean {
  return any(roles, ['county_admin', 'supervisor', 'county_specialist', 'township_doctor']);
}

/** 转诊统计 (the referral dashboard; the server's stats readers). */
export function canSeeReferralStats(roles: readonly string[]): boolean {
  return any(roles, ['township_doctor', 'township_public_health', 'county_specialist', 'supervisor', 'county_admin']);
}

/** The integration screen, and replaying deliveries. */
/** 库存与耗材 (stock, alerts, UDI scanning, recalls): pharmacists (store keepers), county specialists, township doctors,
 * supervisors and the county admin — the readers of /api/v1/supply. */
export function canSeeSupply(roles: readonly string[]): boolean {
  return any(roles, ['pharmacist', 'county_admin', 'supervisor', 'county_specialist', 'township_doctor']);
}

/** 抗凝管理 (anticoagulant episodes; ROLE_PAGES "/anticoag"): pharmacists, the county's specialists, township and
 * village doctors (their own residents: the API scopes rows), supervisors and the county admin. */
export function canSeeAnticoag(roles: readonly string[]): boolean {
  return any(roles, ['pharmacist', 'county_specialist', 'township_doctor', 'village_doctor', 'supervisor', 'county_admin']);
}

/** The organisation's TTR distribution on 抗凝管理 (app/anticoag/api.py TTR_READERS). */
export function canSeeTtrDistribution(roles: readonly string[]): boolean {
  return any(roles, ['pharmacist', 'supervisor', 'county_admin', 'county_specialist']);
}

/** 批量启动 (batch starts and their failed items by name; app/web.py ROLE_PAGES "/batches", the API's
 * BATCH_WATCHERS): county administrators and supervisors, who are told when a batch had failures. */
export function canWatchBatches(roles: readonly string[]): boolean {
  return any(roles, ['county_admin', 'supervisor']);
}

export function canSeeIntegrations(roles: readonly string[]): boolean {
  return any(roles, ['county_admin', 'supervisor']);
}

/** 培训管理 (plans, sessions, item bank, statistics): trainers, the 科教科 head, supervisors and the county admin. */
export function canSeeTrainingAdmin(roles: readonly string[]): boolean {
  return any(roles, ['trainer', 'education_head', 'supervisor', 'county_admin']);
}

/** 科研数据 (research extraction): researchers and county specialists draft projects; the data/ethics committee
 * (supervisor, county admin) reviews them. */
export function canSeeResearch(roles: readonly string[]): boolean {
  return any(roles, ['researcher', 'county_specialist', 'supervisor', 'county_admin']);
}

/** Making and changing plans (the server checks the organization too). */
export function canManageTraining(roles: readonly string[]): boolean {
  return any(roles, ['trainer', 'county_admin']);
}

/** 统计 (the dashboards): only roles that see at least one of its sections (screening, referral, emergency stats). */
export function canSeeDashboards(roles: readonly string[]): boolean {
  return canSeeScreeningStats(roles) || canSeeReferralStats(roles) || canSeeOpenEmergencies(roles) || canSupervise(roles);
}

/** A patient account and nothing else: it belongs in the resident portal, never in the staff pages. */
export function isPatientOnly(roles: readonly string[]): boolean {
  return roles.length > 0 && roles.every((r) => r === 'patient');
}

/** The village doctor's home: today's follow-up visits (their follow-up tasks, earliest due first, overdue marked). */
export const TODAY_FOLLOW_UPS = '/inbox?process_id=follow_up&sort=due';
export const PORTAL_HOME = '/portal';

/**
 * Where a user lands after login and on `/` (issue 22.5): a patient on the resident portal (its own app, opened
 * with a page load: see `isSeparateApp`), a supervisor on the
 * dashboards, a village doctor on today's follow-ups, trainers and the 科教科 head on training work, everyone else on
 * the inbox. With several roles the broader work wins (a supervisor who is also a doctor lands on the dashboards).
 */
export function landingPath(roles: readonly string[]): string {
  if (isPatientOnly(roles)) return PORTAL_HOME;
  if (roles.includes('supervisor')) return '/dashboards';
  const clinical = ['county_specialist', 'township_doctor', 'township_public_health', 'village_doctor', 'pharmacist', 'county_admin', 'supervisor', 'process_owner'];
  if (roles.includes('village_doctor') && !any(roles, clinical.filter((r) => r !== 'village_doctor'))) return TODAY_FOLLOW_UPS;
  if (any(roles, ['trainer', 'education_head']) && !any(roles, clinical)) return '/training';
  if (roles.includes('researcher') && !any(roles, clinical)) return '/research';
  return '/inbox';
}

/** Paths served by another root than the staff app (the portal: main.tsx picks its root by the path at load). */
export function isSeparateApp(path: string): boolean {
  return path === PORTAL_HOME || path.startsWith(`${PORTAL_HOME}/`);
}

export interface MenuEntry {
  to: string;
  label: string;
  /** match the path exactly (培训管理 at /training must not light up on /training/my) */
  end?: boolean;
  /** show the count of my open tasks */
  count?: boolean;
  /** another app than the staff pages (the village doctor's offline app at /m/): a page load, not a client route */
  external?: boolean;
}

/** The offline follow-up app (ui/src/mobile, served at /m/; issue 22.2): the doctors who do follow-up visits in the
 * villages. Its API accepts a few more roles (app/mobile MOBILE_ROLES); the menu offers it to those who visit. */
export const OFFLINE_APP = '/m/';
export function canUseOfflineApp(roles: readonly string[]): boolean {
  return any(roles, ['village_doctor', 'township_doctor']);
}

/**
 * The main menu of a role: only pages it can use (the server refuses the others: app/web.py ROLE_PAGES for the
 * page, the API's role checks behind it). A patient-only account has no staff menu (the portal is its own app).
 */
export function menuFor(roles: readonly string[]): MenuEntry[] {
  if (roles.length === 0 || isPatientOnly(roles)) return [];
  const entries: (MenuEntry | false)[] = [
    { to: '/inbox', label: '待办', count: true },
    canSeeFollowUps(roles) && { to: '/follow-ups', label: '逾期随访' },
    canUseOfflineApp(roles) && { to: OFFLINE_APP, label: '离线随访', external: true },
    canSeeResidents(roles) && { to: '/residents', label: '居民档案' },
    canSeeReferrals(roles) && { to: '/referrals', label: '双向转诊' },
    canSeeConsults(roles) && { to: '/consults', label: '远程会诊' },
    canSeeContracts(roles) && { to: '/contracts', label: '家庭医生签约' },
    canSeeInterventionCentre(roles) && { to: '/intervention', label: '介入中心' },
    canSeeLiaisonRota(roles) && { to: '/liaison/rota', label: '下沉专家排班' },
    canSeeLiaisonWeek(roles) && { to: '/liaison/week', label: '本周专家' },
    canSeeSpecialtyPlans(roles) && { to: '/liaison/plans', label: '专科共建' },
    canScreen(roles) && { to: '/screening', label: '筛查' },
    canSeeQuality(roles) && { to: '/quality', label: '质控指标' },
    canSeeQuality(roles) && { to: '/reports', label: '自定义报表' },
    canSeeAppraisal(roles) && { to: '/appraisal', label: '绩效考核' },
    canSeePharmacy(roles) && { to: '/pharmacy', label: '审方工作台' },
    canSeeAnticoag(roles) && { to: '/anticoag', label: '抗凝管理' },
    canSeeSupply(roles) && { to: '/supply', label: '库存与耗材' },
    canSeeResearch(roles) && { to: '/research', label: '科研数据' },
    canSupervise(roles) && { to: '/instances', label: '流程监控' },
    canWatchBatches(roles) && { to: '/batches', label: '批量启动' },
    canModel(roles) && { to: '/modeler', label: '流程建模' },
    canSeeIntegrations(roles) && { to: '/integrations', label: '系统对接' },
    canSeeTrainingAdmin(roles) ? { to: '/training', label: '培训管理', end: true } : { to: '/training/my', label: '我的培训' },
    canSeeDashboards(roles) && { to: '/dashboards', label: '统计' },
  ];
  return entries.filter((e): e is MenuEntry => !!e);
}

/** 审方工作台 (issue 18.2): the review centre's pharmacists and those who supervise them (app/web.py ROLE_PAGES). */
export function canSeePharmacy(roles: readonly string[]): boolean {
  return any(roles, ['pharmacist', 'supervisor', 'county_admin']);
}

/** 介入中心: the centre's doctors, the quality office and county administrators (app/intervention/api.py STAFF). */
export function canSeeInterventionCentre(roles: readonly string[]): boolean {
  return any(roles, ['county_specialist', 'supervisor', 'county_admin']);
}

/** 绩效考核: county administrators (edit schemes) and supervisors; township staff see their own results. */
export function canSeeAppraisal(roles: readonly string[]): boolean {
  return any(roles, ['supervisor', 'county_admin', 'township_public_health', 'township_doctor']);
}

/** The quality-control page (质控指标): supervisors, county administrators and township 公卫 staff. */
export function canSeeQuality(roles: readonly string[]): boolean {
  return any(roles, ['supervisor', 'county_admin', 'township_public_health']);
}
