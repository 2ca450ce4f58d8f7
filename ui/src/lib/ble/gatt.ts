/**
 * Parsers of the standard Bluetooth health characteristics (pure functions, no Web Bluetooth calls), issue 22.4:
 *
 * - Blood Pressure service 0x1810, Blood Pressure Measurement 0x2A35;
 * - Glucose service 0x1808, Glucose Measurement 0x2A18;
 * - IEEE 11073-20601 16-bit SFLOAT (`sfloat`), the number format both use.
 *
 * Field layouts follow the Bluetooth GATT Specification Supplement. All multi-byte fields are little-endian.
 * `toObservations` turns a parsed measurement into the mobile API's observation items (LOINC codes as the
 * platform records them). The same parser exists on the server: connectors/devices/ble.py.
 */

export const BLOOD_PRESSURE_SERVICE = 0x1810
export const BLOOD_PRESSURE_MEASUREMENT = 0x2a35
export const GLUCOSE_SERVICE = 0x1808
export const GLUCOSE_MEASUREMENT = 0x2a18

const MMHG_PER_KPA = 7.50062
const MG_DL_PER_MMOL_L = 18.016 // glucose 180.16 g/mol (as the server's LOINC table)

export class BleParseError extends Error {
  constructor(
    readonly code: 'too_short' | 'no_value' | 'invalid_value',
    message: string,
  ) {
    super(message)
    this.name = 'BleParseError'
  }
}

/** IEEE 11073 SFLOAT: 4-bit signed exponent, 12-bit signed mantissa; NaN/NRes/reserved → NaN, ±INF → ±Infinity. */
export function sfloat(raw: number): number {
  const mantissaBits = raw & 0x0fff
  let exponent = (raw >> 12) & 0x0f
  switch (raw & 0xffff) {
    case 0x07ff: // NaN
    case 0x0800: // NRes (not at this resolution)
    case 0x0801: // reserved
      return Number.NaN
    case 0x07fe:
      return Number.POSITIVE_INFINITY
    case 0x0802:
      return Number.NEGATIVE_INFINITY
  }
  const mantissa = mantissaBits >= 0x0800 ? mantissaBits - 0x1000 : mantissaBits
  if (exponent >= 0x08) exponent -= 0x10
  // round away binary noise (e.g. 107 × 10^-1): SFLOAT carries at most 4 significant digits
  return Number((mantissa * Math.pow(10, exponent)).toPrecision(6))
}

export interface DateTimeFields {
  year: number
  month: number
  day: number
  hours: number
  minutes: number
  seconds: number
}

export interface BloodPressureStatus {
  bodyMovement: boolean
  cuffTooLoose: boolean
  irregularPulse: boolean
  pulseRateRange: 'in_range' | 'above_upper_limit' | 'below_lower_limit' | 'reserved'
  improperPosition: boolean
}

export interface BloodPressureMeasurement {
  /** as sent */
  unit: 'mmHg' | 'kPa'
  systolic: number
  diastolic: number
  meanArterial: number
  /** converted to mmHg (whole numbers, as the record keeps them) */
  systolicMmHg: number
  diastolicMmHg: number
  meanArterialMmHg: number
  /** the cuff's own clock, without a zone (`YYYY-MM-DDTHH:mm:ss`) */
  timestamp?: string
  pulseRate?: number
  userId?: number
  status?: BloodPressureStatus
}

export interface GlucoseMeasurement {
  sequenceNumber: number
  baseTime: string
  timeOffsetMinutes?: number
  /** base time plus offset (the meter's clock, no zone) */
  measuredAt: string
  concentration?: { value: number; unit: 'kg/L' | 'mol/L' }
  mmolPerL?: number
  type?: GlucoseSampleType
  sampleLocation?: GlucoseSampleLocation
  sensorStatus?: number
  /** a Glucose Measurement Context (0x2A34, e.g. the meal) follows with the same sequence number */
  contextFollows: boolean
}

export type GlucoseSampleType =
  | 'capillary_whole_blood'
  | 'capillary_plasma'
  | 'venous_whole_blood'
  | 'venous_plasma'
  | 'arterial_whole_blood'
  | 'arterial_plasma'
  | 'undetermined_whole_blood'
  | 'undetermined_plasma'
  | 'interstitial_fluid'
  | 'control_solution'
  | 'reserved'

export type GlucoseSampleLocation = 'finger' | 'alternate_site_test' | 'earlobe' | 'control_solution' | 'not_available' | 'reserved'

const SAMPLE_TYPES: GlucoseSampleType[] = [
  'reserved',
  'capillary_whole_blood',
  'capillary_plasma',
  'venous_whole_blood',
  'venous_plasma',
  'arterial_whole_blood',
  'arterial_plasma',
  'undetermined_whole_blood',
  'undetermined_plasma',
  'interstitial_fluid',
  'control_solution',
]
const SAMPLE_LOCATIONS: Record<number, GlucoseSampleLocation> = {
  1: 'finger',
  2: 'alternate_site_test',
  3: 'earlobe',
  4: 'control_solution',
  15: 'not_available',
}

class Reader {
  private offset = 0
  constructor(private readonly view: DataView) {}

  private need(n: number, what: string): void {
    if (this.offset + n > this.view.byteLength) {
      throw new BleParseError('too_short', `数据不完整：缺少${what} (characteristic value too short)`)
    }
  }
  uint8(what: string): number {
    this.need(1, what)
    return this.view.getUint8(this.offset++)
  }
  uint16(what: string): number {
    this.need(2, what)
    const value = this.view.getUint16(this.offset, true)
    this.offset += 2
    return value
  }
  int16(what: string): number {
    this.need(2, what)
    const value = this.view.getInt16(this.offset, true)
    this.offset += 2
    return value
  }
  sfloat(what: string): number {
    return sfloat(this.uint16(what))
  }
  /** Date Time (0x2A08); null when year, month or day is 0 ("not known": a device whose clock was never set). */
  optionalDateTime(what: string): DateTimeFields | null {
    const t = {
      year: this.uint16(what),
      month: this.uint8(what),
      day: this.uint8(what),
      hours: this.uint8(what),
      minutes: this.uint8(what),
      seconds: this.uint8(what),
    }
    if (t.year === 0 || t.month === 0 || t.day === 0) return null
    const at = new Date(Date.UTC(t.year, t.month - 1, t.day, t.hours, t.minutes, t.seconds))
    if (t.month > 12 || t.hours > 23 || t.minutes > 59 || t.seconds > 59 || at.getUTCDate() !== t.day) {
      throw new BleParseError('invalid_value', `${what}无效 (invalid date)`)
    }
    return t
  }
  dateTime(what: string): DateTimeFields {
    const t = this.optionalDateTime(what)
    if (t === null) throw new BleParseError('invalid_value', `${what}未知：设备时钟未设置 (date not known)`)
    return t
  }
}

function asView(data: DataView | ArrayBuffer | Uint8Array | number[]): DataView {
  if (data instanceof DataView) return data
  if (data instanceof ArrayBuffer) return new DataView(data)
  const bytes = data instanceof Uint8Array ? data : Uint8Array.from(data)
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

function isoLocal(t: DateTimeFields): string {
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hours)}:${pad(t.minutes)}:${pad(t.seconds)}`
}

function plusMinutes(t: DateTimeFields, minutes: number): string {
  const at = new Date(Date.UTC(t.year, t.month - 1, t.day, t.hours, t.minutes + minutes, t.seconds))
  return at.toISOString().slice(0, 19)
}

function required(value: number, what: string): number {
  if (!Number.isFinite(value)) throw new BleParseError('no_value', `设备未给出${what} (no value)`)
  return value
}

/** Blood Pressure Measurement (0x2A35). */
export function parseBloodPressureMeasurement(data: DataView | ArrayBuffer | Uint8Array | number[]): BloodPressureMeasurement {
  const r = new Reader(asView(data))
  const flags = r.uint8('标志位')
  const unit = flags & 0x01 ? 'kPa' : 'mmHg'
  const systolic = required(r.sfloat('收缩压'), '收缩压')
  const diastolic = required(r.sfloat('舒张压'), '舒张压')
  const meanArterial = r.sfloat('平均动脉压')
  const toMmHg = (v: number) => (Number.isFinite(v) ? Math.round(unit === 'kPa' ? v * MMHG_PER_KPA : v) : Number.NaN)
  const out: BloodPressureMeasurement = {
    unit,
    systolic,
    diastolic,
    meanArterial,
    systolicMmHg: toMmHg(systolic),
    diastolicMmHg: toMmHg(diastolic),
    meanArterialMmHg: toMmHg(meanArterial),
  }
  if (flags & 0x02) {
    const t = r.optionalDateTime('时间戳')
    if (t) out.timestamp = isoLocal(t)
  }
  if (flags & 0x04) out.pulseRate = r.sfloat('脉率')
  if (flags & 0x08) out.userId = r.uint8('用户编号')
  if (flags & 0x10) {
    const s = r.uint16('测量状态')
    const range = (s >> 3) & 0x03
    out.status = {
      bodyMovement: Boolean(s & 0x01),
      cuffTooLoose: Boolean(s & 0x02),
      irregularPulse: Boolean(s & 0x04),
      pulseRateRange: (['in_range', 'above_upper_limit', 'below_lower_limit', 'reserved'] as const)[range],
      improperPosition: Boolean(s & 0x20),
    }
  }
  return out
}

/** Glucose Measurement (0x2A18). */
export function parseGlucoseMeasurement(data: DataView | ArrayBuffer | Uint8Array | number[]): GlucoseMeasurement {
  const r = new Reader(asView(data))
  const flags = r.uint8('标志位')
  const sequenceNumber = r.uint16('序号')
  const base = r.dateTime('基准时间')
  const out: GlucoseMeasurement = {
    sequenceNumber,
    baseTime: isoLocal(base),
    measuredAt: isoLocal(base),
    contextFollows: Boolean(flags & 0x10),
  }
  if (flags & 0x01) {
    out.timeOffsetMinutes = r.int16('时间偏移')
    out.measuredAt = plusMinutes(base, out.timeOffsetMinutes)
  }
  if (flags & 0x02) {
    const unit = flags & 0x04 ? 'mol/L' : 'kg/L'
    const value = r.sfloat('血糖浓度')
    out.concentration = { value, unit }
    if (Number.isFinite(value)) {
      const mmol = unit === 'mol/L' ? value * 1000 : (value * 100000) / MG_DL_PER_MMOL_L
      out.mmolPerL = Math.round(mmol * 100) / 100
    }
    const typeLocation = r.uint8('样本类型')
    out.type = SAMPLE_TYPES[typeLocation & 0x0f] ?? 'reserved'
    out.sampleLocation = SAMPLE_LOCATIONS[typeLocation >> 4] ?? 'reserved'
  }
  if (flags & 0x08) out.sensorStatus = r.uint16('传感器状态')
  return out
}

/** One observation item of `POST /api/mobile/v1/observations` (id, resident and time are the caller's). */
export interface ObservationValue {
  code: string
  value: number
  unit: string
}

/** LOINC values of a parsed reading: BP → systolic, diastolic (and pulse); glucose → random glucose (2339-0) unless
 * the caller knows the resident was fasting (`fasting: true` → 1558-6). */
export function toObservations(
  m: BloodPressureMeasurement | GlucoseMeasurement,
  options: { fasting?: boolean } = {},
): ObservationValue[] {
  if ('systolicMmHg' in m) {
    const out = [
      { code: '8480-6', value: m.systolicMmHg, unit: 'mm[Hg]' },
      { code: '8462-4', value: m.diastolicMmHg, unit: 'mm[Hg]' },
    ]
    if (m.pulseRate !== undefined && Number.isFinite(m.pulseRate)) {
      out.push({ code: '8867-4', value: Math.round(m.pulseRate), unit: '/min' })
    }
    return out
  }
  if (m.mmolPerL === undefined) throw new BleParseError('no_value', '设备未给出血糖浓度 (no value)')
  return [{ code: options.fasting ? '1558-6' : '2339-0', value: m.mmolPerL, unit: 'mmol/L' }]
}
