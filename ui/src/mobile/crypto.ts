/**
 * Encryption at rest for the village doctor's phone (docs/mobile.md "Client", shared/domain/offline.md §3).
 *
 * A random AES-GCM data key encrypts every stored payload. The data key is wrapped (AES-GCM) by a key derived
 * from the doctor's PIN with PBKDF2-SHA-256; only the wrapped form is stored. Unwrapped, the data key lives in
 * memory as a non-extractable CryptoKey. A wrong PIN fails the unwrap's authentication tag: there is no separate
 * PIN hash to attack offline.
 */

export const PBKDF2_ITERATIONS = 600_000;
const IV_BYTES = 12;

export interface Sealed {
  iv: Uint8Array;
  ct: ArrayBuffer;
}

export interface WrappedKey {
  salt: Uint8Array;
  iterations: number;
  iv: Uint8Array;
  wrapped: ArrayBuffer;
}

export class WrongPinError extends Error {
  constructor() {
    super('PIN 不正确');
    this.name = 'WrongPinError';
  }
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('此浏览器不支持加密存储（需要 HTTPS 或 localhost）');
  return s;
}

function random(n: number): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/** A PIN is 6 digits: short enough to type in the field, and PBKDF2 makes each guess cost. */
export function pinProblem(pin: string): string | null {
  if (!/^\d{6}$/.test(pin)) return 'PIN 须为 6 位数字';
  if (/^(\d)\1{5}$/.test(pin) || '0123456789'.includes(pin) || '9876543210'.includes(pin)) return 'PIN 过于简单（不要用相同或连续的数字）';
  return null;
}

async function pinKey(pin: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const material = await subtle().importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as Uint8Array<ArrayBuffer>, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['wrapKey', 'unwrapKey'],
  );
}

/** A new data key for a new vault, wrapped under the PIN. Returns the in-memory key and what to store. */
export async function createVault(pin: string, iterations = PBKDF2_ITERATIONS): Promise<{ key: CryptoKey; wrapped: WrappedKey }> {
  const salt = random(16);
  const dataKey = await subtle().generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  const kek = await pinKey(pin, salt, iterations);
  const iv = random(IV_BYTES);
  const wrapped = await subtle().wrapKey('raw', dataKey, kek, { name: 'AES-GCM', iv });
  // re-import as non-extractable: the in-memory key can encrypt and decrypt but never be read out
  const key = await unwrap(pin, { salt, iterations, iv, wrapped });
  return { key, wrapped: { salt, iterations, iv, wrapped } };
}

/** The data key from the stored wrapped key and the PIN; WrongPinError when the PIN does not open it. */
export async function unwrap(pin: string, w: WrappedKey): Promise<CryptoKey> {
  const kek = await pinKey(pin, w.salt, w.iterations);
  try {
    return await subtle().unwrapKey(
      'raw',
      w.wrapped,
      kek,
      { name: 'AES-GCM', iv: w.iv as Uint8Array<ArrayBuffer> },
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    );
  } catch {
    throw new WrongPinError();
  }
}

/** Re-wrap the same data key under a new PIN (the stored data stays as it is). */
export async function changePin(oldPin: string, newPin: string, w: WrappedKey, iterations = w.iterations): Promise<WrappedKey> {
  // the in-memory key is non-extractable, so unwrap an extractable copy just for re-wrapping
  const kek = await pinKey(oldPin, w.salt, w.iterations);
  let dataKey: CryptoKey;
  try {
    dataKey = await subtle().unwrapKey('raw', w.wrapped, kek, { name: 'AES-GCM', iv: w.iv as Uint8Array<ArrayBuffer> },
      { name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  } catch {
    throw new WrongPinError();
  }
  const salt = random(16);
  const iv = random(IV_BYTES);
  const wrapped = await subtle().wrapKey('raw', dataKey, await pinKey(newPin, salt, iterations), { name: 'AES-GCM', iv });
  return { salt, iterations, iv, wrapped };
}

/** Encrypt a JSON value; `aad` binds the ciphertext to its row (a payload moved to another row fails to open). */
export async function seal(key: CryptoKey, value: unknown, aad: string): Promise<Sealed> {
  const iv = random(IV_BYTES);
  const ct = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(aad) },
    key,
    new TextEncoder().encode(JSON.stringify(value)),
  );
  return { iv, ct };
}

export async function open<T>(key: CryptoKey, sealed: Sealed, aad: string): Promise<T> {
  const plain = await subtle().decrypt(
    { name: 'AES-GCM', iv: sealed.iv as Uint8Array<ArrayBuffer>, additionalData: new TextEncoder().encode(aad) },
    key,
    sealed.ct,
  );
  return JSON.parse(new TextDecoder().decode(plain)) as T;
}
