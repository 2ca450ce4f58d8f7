/** Helpers of the training pages (labels from the vocabulary, sign-in token parsing, positions, countdowns). */
import { vocabMap } from './vocabulary';

export const RESPONSE_LABELS = vocabMap('enrolment_response');
export const METHOD_LABELS = vocabMap('sign_in_method');
export const KIND_LABELS = vocabMap('material_kind');
export const ITEM_KIND_LABELS = vocabMap('exam_item_kind');
export const CATEGORY_LABELS = vocabMap('training_category');
export const LEVEL_LABELS = vocabMap('project_level');
export const MODE_LABELS = vocabMap('training_mode');
/** The roles a training may target (the server's TRAINEE_ROLES), named from the vocabulary. */
export const TRAINEE_ROLES = ['county_specialist', 'township_doctor', 'township_public_health', 'village_doctor', 'pharmacist'];

/** "85.0%" for a share, "—" for nothing. */
export function pct(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return `${(value * 100).toFixed(digits)}%`;
}

/**
 * The sign-in token from what the camera read: the venue QR holds the sign-in URL
 * (`…/training/sign-in/12?t=TOKEN`); a bare token is accepted too. Null when it is not ours (or another session's).
 */
export function tokenFrom(text: string, sessionId: number): string | null {
  const raw = text.trim();
  if (/^\d+\.[a-z2-7]+$/.test(raw)) return raw;
  try {
    const url = new URL(raw);
    const m = url.pathname.match(/\/training\/sign-in\/(\d+)\/?$/);
    if (!m || Number(m[1]) !== sessionId) return null;
    const t = url.searchParams.get('t');
    return t && /^\d+\.[a-z2-7]+$/.test(t) ? t : null;
  } catch {
    return null;
  }
}

/** A stable id for this phone's browser (one account per device may sign in to a session). */
export function deviceId(storage: Pick<Storage, 'getItem' | 'setItem'> | null = typeof localStorage === 'undefined' ? null : localStorage): string {
  const key = 'ygt_device_id';
  const found = storage?.getItem(key);
  if (found) return found;
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  const id = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  storage?.setItem(key, id);
  return id;
}

export interface Fix {
  lat: number | null;
  lon: number | null;
  accuracy_m: number | null;
  error?: string;
}

/** The phone's position (high accuracy, fresh); a refusal or timeout gives nulls and the reason in Chinese. */
export function locate(timeoutMs = 15000): Promise<Fix> {
  return new Promise((resolve) => {
    if (typeof navigator === 'undefined' || !navigator.geolocation) {
      resolve({ lat: null, lon: null, accuracy_m: null, error: '此浏览器不支持定位' });
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy) }),
      (e) =>
        resolve({
          lat: null,
          lon: null,
          accuracy_m: null,
          error: e.code === 1 ? '您拒绝了定位权限，请在浏览器设置中允许' : e.code === 3 ? '定位超时' : '无法获取位置',
        }),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 0 },
    );
  });
}

/** "12:05" (minutes:seconds) left until `deadline`; "0:00" once past. */
export function countdown(deadline: string | Date, now: Date = new Date()): string {
  const ms = Math.max(0, new Date(deadline).getTime() - now.getTime());
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** What a trainee can do next with a session, for the phone list. */
export function nextStep(entry: {
  response: string | null;
  can_sign_in: boolean;
  attendance: { signed_out_at: string | null } | null;
  exam: { open: boolean; attempts: { status: string; attempt_no: number }[] };
  can_evaluate: boolean;
  satisfaction_done: boolean;
  capacity: string;
}): string | null {
  if (entry.capacity === 'lecturer') return null;
  if (entry.response === 'pending') return '待确认参加';
  if (entry.can_sign_in && !entry.attendance) return '可签到';
  if (entry.can_sign_in && entry.attendance && !entry.attendance.signed_out_at) return '待签退';
  const inProgressOrNone = entry.exam.open && !entry.exam.attempts.some((a) => a.status === 'submitted' && a.attempt_no === Math.max(...entry.exam.attempts.map((x) => x.attempt_no)));
  if (inProgressOrNone) return '待考试';
  if (entry.can_evaluate && !entry.satisfaction_done) return '待评价';
  return null;
}
