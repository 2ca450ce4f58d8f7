/**
 * 蓝牙读数 (issue 22.4, behind a flag): read one measurement from a standard Bluetooth blood-pressure cuff (service
 * 0x1810, characteristic 0x2A35) or glucometer (0x1808 / 0x2A18, asking its Record Access Control Point 0x2A52 for
 * the last stored record) with Web Bluetooth, parsed by the shared parsers in ui/src/lib/ble/.
 *
 * Web Bluetooth exists in Chrome on Android and desktop, not in Android WebView (so not in WeChat), Firefox or
 * Safari: the button shows only where `navigator.bluetooth` exists and the flag is on (`/m/?ble=1` once on the
 * phone, kept in localStorage; `/m/?ble=0` turns it off).
 */
import { useState } from 'react';
import {
  BLOOD_PRESSURE_MEASUREMENT, BLOOD_PRESSURE_SERVICE, GLUCOSE_MEASUREMENT, GLUCOSE_SERVICE,
  parseBloodPressureMeasurement, parseGlucoseMeasurement,
} from '../lib/ble/gatt';
import type { Readings } from './readings';

const FLAG = 'ygt.mobile.ble';
const RACP = 0x2a52;
const DEVICE_INFORMATION = 0x180a;
const SERIAL_NUMBER = 0x2a25;
const WAIT_MS = 60_000;

// the part of Web Bluetooth used here (not in TypeScript's DOM library)
interface Characteristic extends EventTarget {
  value?: DataView;
  startNotifications(): Promise<Characteristic>;
  writeValue(v: BufferSource): Promise<void>;
  readValue(): Promise<DataView>;
}
interface Service {
  getCharacteristic(uuid: number): Promise<Characteristic>;
}
interface Gatt {
  connect(): Promise<Gatt>;
  disconnect(): void;
  getPrimaryService(uuid: number): Promise<Service>;
}
interface Device {
  id: string;
  name?: string;
  gatt?: Gatt;
}
export interface Bluetooth {
  requestDevice(o: { filters: { services: number[] }[]; optionalServices?: number[] }): Promise<Device>;
}

function bluetooth(): Bluetooth | null {
  return (typeof navigator !== 'undefined' && (navigator as unknown as { bluetooth?: Bluetooth }).bluetooth) || null;
}

/** The flag: set by `?ble=1` / `?ble=0` on /m/, remembered on the phone. */
export function bleEnabled(): boolean {
  if (typeof window === 'undefined') return false;
  const q = new URLSearchParams(window.location.search).get('ble');
  if (q === '1' || q === '0') window.localStorage.setItem(FLAG, q);
  return window.localStorage.getItem(FLAG) === '1' && bluetooth() !== null;
}

function nextValue(c: Characteristic): Promise<DataView> {
  return new Promise((resolve, reject) => {
    const timer = globalThis.setTimeout(() => reject(new Error('等待设备读数超时，请在设备上完成测量后重试')), WAIT_MS);
    c.addEventListener('characteristicvaluechanged', () => {
      globalThis.clearTimeout(timer);
      if (c.value) resolve(c.value);
    }, { once: true });
  });
}

async function serialOf(gatt: Gatt, device: Device): Promise<string> {
  try {
    const info = await gatt.getPrimaryService(DEVICE_INFORMATION);
    const raw = await (await info.getCharacteristic(SERIAL_NUMBER)).readValue();
    const s = new TextDecoder().decode(raw.buffer).replace(/\0+$/, '').trim();
    if (s) return s;
  } catch {
    /* no Device Information service: fall back to the name the browser shows */
  }
  return device.name || device.id;
}

/** One reading from a cuff or a glucometer the doctor picks in the browser's chooser. */
export async function readDevice(bt: Bluetooth | null = bluetooth()): Promise<Readings> {
  if (!bt) throw new Error('此浏览器不支持蓝牙读数');
  const device = await bt.requestDevice({
    filters: [{ services: [BLOOD_PRESSURE_SERVICE] }, { services: [GLUCOSE_SERVICE] }],
    optionalServices: [DEVICE_INFORMATION],
  });
  if (!device.gatt) throw new Error('无法连接该设备');
  const gatt = await device.gatt.connect();
  try {
    const serial = await serialOf(gatt, device);
    try {
      const bp = await gatt.getPrimaryService(BLOOD_PRESSURE_SERVICE);
      const c = await (await bp.getCharacteristic(BLOOD_PRESSURE_MEASUREMENT)).startNotifications();
      const m = parseBloodPressureMeasurement(await nextValue(c));
      return { sbp: m.systolicMmHg, dbp: m.diastolicMmHg, pulse: m.pulseRate !== undefined && Number.isFinite(m.pulseRate) ? Math.round(m.pulseRate) : null, device_serial: serial };
    } catch (e) {
      if (!(e instanceof DOMException) || e.name !== 'NotFoundError') throw e;
    }
    const gl = await gatt.getPrimaryService(GLUCOSE_SERVICE);
    const c = await (await gl.getCharacteristic(GLUCOSE_MEASUREMENT)).startNotifications();
    const racp = await gl.getCharacteristic(RACP);
    await racp.startNotifications();
    const value = nextValue(c);
    await racp.writeValue(new Uint8Array([0x01, 0x06]));    // report stored records: the last one
    const m = parseGlucoseMeasurement(await value);
    if (m.mmolPerL === undefined) throw new Error('设备未给出血糖值');
    return { glucose: Math.round(m.mmolPerL * 10) / 10, device_serial: serial };
  } finally {
    gatt.disconnect();
  }
}

export function BleButton({ onReading }: { onReading: (r: Readings) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const read = async () => {
    setBusy(true);
    setError(null);
    try {
      onReading(await readDevice());
    } catch (e) {
      // the doctor closed the chooser: not an error worth showing
      if (!(e instanceof DOMException && e.name === 'NotFoundError')) setError(e instanceof Error ? e.message : '读取失败');
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="m-stack">
      <button type="button" className="m-btn" onClick={() => void read()} disabled={busy} data-testid="ble-read">
        {busy ? '正在等待设备…' : '从蓝牙血压计/血糖仪读取'}
      </button>
      {error ? <p className="m-error" role="alert">{error}</p> : null}
    </div>
  );
}
