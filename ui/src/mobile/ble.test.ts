/**
 * The Web Bluetooth flow of 蓝牙读数 against a stand-in for the radio (no phone or cuff in CI): the GATT calls in
 * the order a real cuff and glucometer answer them, with real measurement bytes parsed by ui/src/lib/ble/gatt.ts.
 */
import { describe, expect, it } from 'vitest';
import { readDevice, type Bluetooth } from './ble';

class Char extends EventTarget {
  value?: DataView;
  written: number[][] = [];
  constructor(private bytes: number[] | null, private onWrite?: () => void, private readBytes?: number[]) {
    super();
  }
  async startNotifications() {
    // the device measures and indicates a moment later
    if (this.bytes) setTimeout(() => this.emit(this.bytes!), 5);
    return this;
  }
  emit(bytes: number[]) {
    this.value = new DataView(new Uint8Array(bytes).buffer);
    this.dispatchEvent(new Event('characteristicvaluechanged'));
  }
  async writeValue(v: BufferSource) {
    this.written.push(Array.from(new Uint8Array(v as ArrayBuffer)));
    this.onWrite?.();
  }
  async readValue() {
    return new DataView(new Uint8Array(this.readBytes ?? []).buffer);
  }
}

function device(services: Record<number, Record<number, Char>>, name = '血压计') {
  let disconnected = false;
  const gatt = {
    async connect() { return gatt; },
    disconnect() { disconnected = true; },
    async getPrimaryService(uuid: number) {
      const s = services[uuid];
      if (!s) throw new DOMException('no such service', 'NotFoundError');
      return { async getCharacteristic(c: number) { if (!s[c]) throw new DOMException('no', 'NotFoundError'); return s[c]; } };
    },
  };
  const bt: Bluetooth = { async requestDevice() { return { id: 'dev-1', name, gatt }; } };
  return { bt, disconnected: () => disconnected };
}

const serial = (s: string) => Array.from(new TextEncoder().encode(s));

describe('Bluetooth reading', () => {
  it('reads a standard cuff: mmHg systolic/diastolic/MAP + pulse, with its serial number', async () => {
    // flags 0x04 (pulse present, mmHg); SFLOAT 142, 91, 108; pulse 77
    const bp = new Char([0x04, 142, 0, 91, 0, 108, 0, 77, 0]);
    const d = device({ 0x1810: { 0x2a35: bp }, 0x180a: { 0x2a25: new Char(null, undefined, serial('BP-88120')) } });
    expect(await readDevice(d.bt)).toEqual({ sbp: 142, dbp: 91, pulse: 77, device_serial: 'BP-88120' });
    expect(d.disconnected()).toBe(true);
  });

  it("reads a glucometer's last stored record through its RACP, falling back to the device name", async () => {
    // flags 0x02 (concentration in kg/L + type/location); seq 7; base time 2026-12-04 07:02:00; SFLOAT 130e-5 kg/L (130 mg/dL)
    const measurement = new Char(null);
    const racp = new Char(null, () => measurement.emit([0x02, 7, 0, 0xea, 0x07, 12, 4, 7, 2, 0, 0x82, 0xb0, 0x11]));
    const d = device({ 0x1808: { 0x2a18: measurement, 0x2a52: racp } }, '血糖仪 GL-5512');
    const r = await readDevice(d.bt);
    expect(racp.written).toEqual([[0x01, 0x06]]);       // report stored records: the last one
    expect(r.device_serial).toBe('血糖仪 GL-5512');
    expect(r.glucose).toBeCloseTo(7.2, 1);              // 130 mg/dL
    expect(d.disconnected()).toBe(true);
  });

  it('says so where the browser has no Web Bluetooth', async () => {
    await expect(readDevice(null)).rejects.toThrow('不支持蓝牙');
  });
});
