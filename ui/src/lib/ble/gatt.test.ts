import { describe, expect, it } from 'vitest'

import {
  BleParseError,
  parseBloodPressureMeasurement,
  parseGlucoseMeasurement,
  sfloat,
  toObservations,
} from './gatt'
import examples from './gatt_examples.json'

function codeOf(parse: () => unknown): string {
  try {
    parse()
  } catch (e) {
    return e instanceof BleParseError ? e.code : `other: ${String(e)}`
  }
  return 'no error'
}

// Values laid out byte by byte after the GATT Specification Supplement (little-endian; SFLOAT = 4-bit exponent,
// 12-bit mantissa, both two's complement, IEEE 11073-20601).

describe('sfloat', () => {
  it('reads mantissa and exponent, both signed', () => {
    expect(sfloat(0x0078)).toBe(120) // 120 × 10^0
    expect(sfloat(0xf06b)).toBe(10.7) // 107 × 10^-1
    expect(sfloat(0x2001)).toBe(100) // 1 × 10^2
    expect(sfloat(0x0fff)).toBe(-1) // mantissa -1
    expect(sfloat(0xb07e)).toBe(0.00126) // 126 × 10^-5
  })
  it('maps the special values', () => {
    expect(sfloat(0x07ff)).toBeNaN() // NaN
    expect(sfloat(0x0800)).toBeNaN() // NRes
    expect(sfloat(0x0801)).toBeNaN() // reserved
    expect(sfloat(0x07fe)).toBe(Number.POSITIVE_INFINITY)
    expect(sfloat(0x0802)).toBe(Number.NEGATIVE_INFINITY)
  })
})

describe('Blood Pressure Measurement 0x2A35', () => {
  it('reads the minimal form (flags 0: mmHg, no optional fields)', () => {
    const m = parseBloodPressureMeasurement([0x00, 0x78, 0x00, 0x50, 0x00, 0x5d, 0x00])
    expect(m).toEqual({
      unit: 'mmHg', systolic: 120, diastolic: 80, meanArterial: 93,
      systolicMmHg: 120, diastolicMmHg: 80, meanArterialMmHg: 93,
    })
    expect(toObservations(m)).toEqual([
      { code: '8480-6', value: 120, unit: 'mm[Hg]' },
      { code: '8462-4', value: 80, unit: 'mm[Hg]' },
    ])
  })

  it('reads every optional field, in kPa converted to mmHg', () => {
    const bytes = new Uint8Array([
      0x1f, // kPa | time stamp | pulse | user id | status
      0xa0, 0xf0, // 16.0 kPa
      0x6b, 0xf0, // 10.7 kPa
      0x7d, 0xf0, // 12.5 kPa
      0xea, 0x07, 0x0c, 0x04, 0x08, 0x1e, 0x0f, // 2026-12-04 08:30:15
      0x48, 0x00, // pulse 72
      0x01, // user 1
      0x0c, 0x00, // irregular pulse, pulse rate above the upper limit
    ])
    const m = parseBloodPressureMeasurement(new DataView(bytes.buffer))
    expect(m.unit).toBe('kPa')
    expect([m.systolic, m.diastolic, m.meanArterial]).toEqual([16, 10.7, 12.5])
    expect([m.systolicMmHg, m.diastolicMmHg, m.meanArterialMmHg]).toEqual([120, 80, 94])
    expect(m.timestamp).toBe('2026-12-04T08:30:15')
    expect(m.pulseRate).toBe(72)
    expect(m.userId).toBe(1)
    expect(m.status).toEqual({
      bodyMovement: false, cuffTooLoose: false, irregularPulse: true,
      pulseRateRange: 'above_upper_limit', improperPosition: false,
    })
    expect(toObservations(m)[2]).toEqual({ code: '8867-4', value: 72, unit: '/min' })
  })

  it('refuses truncated data and a missing systolic value with a code', () => {
    expect(codeOf(() => parseBloodPressureMeasurement([0x00, 0x78, 0x00, 0x50]))).toBe('too_short')
    // says a pulse rate follows; none does
    expect(codeOf(() => parseBloodPressureMeasurement([0x04, 0x78, 0x00, 0x50, 0x00, 0x5d, 0x00]))).toBe('too_short')
    expect(codeOf(() => parseBloodPressureMeasurement([0x00, 0xff, 0x07, 0x50, 0x00, 0x5d, 0x00]))).toBe('no_value')
  })
})

describe('Glucose Measurement 0x2A18', () => {
  it('reads a kg/L concentration with time offset and converts it to mmol/L', () => {
    const m = parseGlucoseMeasurement([
      0x03, // time offset | concentration (kg/L)
      0x01, 0x00, // sequence 1
      0xea, 0x07, 0x0c, 0x04, 0x07, 0x00, 0x00, // 2026-12-04 07:00:00
      0x1e, 0x00, // +30 minutes
      0x7e, 0xb0, // 126 × 10^-5 kg/L = 126 mg/dL
      0x11, // capillary whole blood, finger
    ])
    expect(m.sequenceNumber).toBe(1)
    expect(m.baseTime).toBe('2026-12-04T07:00:00')
    expect(m.measuredAt).toBe('2026-12-04T07:30:00')
    expect(m.concentration).toEqual({ value: 0.00126, unit: 'kg/L' })
    expect(m.mmolPerL).toBe(6.99)
    expect([m.type, m.sampleLocation]).toEqual(['capillary_whole_blood', 'finger'])
    expect(m.contextFollows).toBe(false)
    expect(toObservations(m)).toEqual([{ code: '2339-0', value: 6.99, unit: 'mmol/L' }])
    expect(toObservations(m, { fasting: true })[0].code).toBe('1558-6')
  })

  it('reads a mol/L concentration, sensor status and the context flag', () => {
    const m = parseGlucoseMeasurement([
      0x1e, // concentration | mol/L | sensor status | context follows
      0x02, 0x00,
      0xea, 0x07, 0x0c, 0x04, 0x07, 0x00, 0x00,
      0x46, 0xc0, // 70 × 10^-4 mol/L = 7.0 mmol/L
      0x12, // capillary plasma, finger
      0x01, 0x00, // device battery low at time of measurement
    ])
    expect(m.mmolPerL).toBe(7)
    expect(m.timeOffsetMinutes).toBeUndefined()
    expect(m.type).toBe('capillary_plasma')
    expect(m.sensorStatus).toBe(1)
    expect(m.contextFollows).toBe(true)
  })

  it('has no value to record when the concentration is absent', () => {
    const m = parseGlucoseMeasurement([0x00, 0x03, 0x00, 0xea, 0x07, 0x0c, 0x04, 0x07, 0x00, 0x00])
    expect(m.concentration).toBeUndefined()
    expect(codeOf(() => toObservations(m))).toBe('no_value')
  })
})

// The byte examples shared with the server's parser (tests/unit/test_device_ble.py reads the same file).

type Expect = Record<string, unknown>
const hex = (s: string) => s.split(' ').map((b) => parseInt(b, 16))
const TS_NAMES: Record<string, string> = {
  mean_arterial: 'meanArterial', systolic_mmhg: 'systolicMmHg', diastolic_mmhg: 'diastolicMmHg',
  pulse_rate: 'pulseRate', user_id: 'userId', sequence_number: 'sequenceNumber', base_time: 'baseTime',
  measured_at: 'measuredAt', time_offset_minutes: 'timeOffsetMinutes', mmol_per_l: 'mmolPerL',
  sample_type: 'type', sample_location: 'sampleLocation', sensor_status: 'sensorStatus', context_follows: 'contextFollows',
}
const camel = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()), v]))

function value(parsed: Record<string, unknown>, key: string): unknown {
  if (key === 'concentration') return (parsed.concentration as { value: number } | undefined)?.value ?? null
  if (key === 'concentration_unit') return (parsed.concentration as { unit: string } | undefined)?.unit ?? null
  return parsed[TS_NAMES[key] ?? key] ?? null
}

const expect_ = expect

function check(parsed: Record<string, unknown>, expect: Expect) {
  for (const [key, want] of Object.entries(expect)) {
    const got = value(parsed, key)
    if (want === 'NaN') expect_(got).toBeNaN()
    else if (key === 'status') expect_(got).toEqual(camel(want as Record<string, unknown>))
    else if (typeof want === 'number') expect_(got as number).toBeCloseTo(want, 10)
    else expect_(got).toEqual(want)
  }
}

describe('Bluetooth SIG byte examples (shared with the server parser)', () => {
  it.each(examples.sfloat as [string, number | string][])('SFLOAT %s', (raw, want) => {
    const got = sfloat(parseInt(raw, 16))
    if (want === 'NaN') expect(got).toBeNaN()
    else if (want === '+INF') expect(got).toBe(Number.POSITIVE_INFINITY)
    else if (want === '-INF') expect(got).toBe(Number.NEGATIVE_INFINITY)
    else expect(got).toBeCloseTo(want as number, 12)
  })
  const cases = [
    ...examples.blood_pressure.map((c) => ({ ...c, parse: parseBloodPressureMeasurement as (b: number[]) => unknown })),
    ...examples.glucose.map((c) => ({ ...c, parse: parseGlucoseMeasurement as (b: number[]) => unknown })),
  ] as { name: string; hex: string; expect?: Expect; error?: string; parse: (b: number[]) => unknown }[]
  it.each(cases)('$name', (c) => {
    if (c.error) {
      expect(codeOf(() => c.parse(hex(c.hex)))).toBe(c.error)
      return
    }
    check(c.parse(hex(c.hex)) as Record<string, unknown>, c.expect as Expect)
  })
})
