/**
 * Dates are stored as aware UTC; people read them in the platform's display time zone (STYLE.md habit 9): the
 * server's `Settings.display_tz` (`YGT_DISPLAY_TZ`), which the vocabulary carries as `display_time_zone`
 * (`setVocabulary` calls `setTimeZone`). Until it loads, and in unit tests, it is the default Asia/Shanghai.
 */
let zone = 'Asia/Shanghai';
let dateTimeFmt = dateTimeFormat(zone);
let dateFmt = dateFormat(zone);
let offsetFmt = offsetFormat(zone);

function dateTimeFormat(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('zh-CN', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  });
}

function dateFormat(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('zh-CN', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
}

function offsetFormat(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
}

/** The display time zone (an IANA name). */
export function timeZone(): string {
  return zone;
}

/** Use the server's display time zone; a name this browser does not know is ignored (the previous zone stays). */
export function setTimeZone(name: string): void {
  try {
    const formats = [dateTimeFormat(name), dateFormat(name), offsetFormat(name)];
    [dateTimeFmt, dateFmt, offsetFmt] = formats;
    zone = name;
  } catch {
    /* RangeError: an unknown time zone */
  }
}

/** The display time zone's UTC offset on a calendar day ("+08:00"), for turning local times into instants. */
export function zoneOffset(day: string): string {
  const noon = new Date(`${day}T12:00:00Z`);
  if (Number.isNaN(noon.getTime())) return '+00:00';
  const name = offsetFmt.formatToParts(noon).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  return name === 'GMT' ? '+00:00' : name.slice(3);
}

function parts(fmt: Intl.DateTimeFormat, d: Date): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of fmt.formatToParts(d)) out[p.type] = p.value;
  return out;
}

export function toDate(value: string | number | Date | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  // A plain date ("2024-05-01") is a calendar date, not a UTC instant: pin it to local midnight.
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return new Date(`${value}T00:00:00${zoneOffset(value)}`);
  }
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "2024-05-01 08:30" in local time; "—" for nothing. */
export function formatDateTime(value: string | number | Date | null | undefined): string {
  const d = toDate(value);
  if (!d) return '—';
  const p = parts(dateTimeFmt, d);
  const hour = p.hour === '24' ? '00' : p.hour;
  return `${p.year}-${p.month}-${p.day} ${hour}:${p.minute}`;
}

/** "2024-05-01" in local time. */
export function formatDate(value: string | number | Date | null | undefined): string {
  const d = toDate(value);
  if (!d) return '—';
  const p = parts(dateFmt, d);
  return `${p.year}-${p.month}-${p.day}`;
}

/** Today's calendar date in the county ("2026-12-04" at 03:00 Beijing time, while UTC is still on the 3rd). */
export function localToday(now: Date = new Date()): string {
  return formatDate(now);
}

/** "3 天后到期" / "已逾期 2 小时" relative to now, for due dates. */
export function formatDue(value: string | null | undefined, now: Date = new Date()): string {
  const d = toDate(value);
  if (!d) return '无期限';
  const diffMs = d.getTime() - now.getTime();
  const abs = Math.abs(diffMs);
  const minutes = Math.round(abs / 60000);
  const hours = Math.round(abs / 3600000);
  const days = Math.round(abs / 86400000);
  const span = minutes < 60 ? `${Math.max(minutes, 1)} 分钟` : hours < 48 ? `${hours} 小时` : `${days} 天`;
  return diffMs >= 0 ? `${span}后到期` : `已逾期 ${span}`;
}

/** A local calendar date ("2024-05-01") to the UTC instant of its start, for `started_from` filters. */
export function localDayStartIso(day: string): string {
  return new Date(`${day}T00:00:00${zoneOffset(day)}`).toISOString();
}

/** A local calendar date to the UTC instant of its end (exclusive next midnight minus 1 ms). */
export function localDayEndIso(day: string): string {
  return new Date(new Date(`${day}T00:00:00${zoneOffset(day)}`).getTime() + 86400000 - 1).toISOString();
}
