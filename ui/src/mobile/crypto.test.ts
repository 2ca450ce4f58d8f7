import { describe, expect, it } from 'vitest';
import { PBKDF2_ITERATIONS, WrongPinError, changePin, createVault, open, pinProblem, seal, unwrap } from './crypto';

describe('PIN vault', () => {
  it('opens with the right PIN and refuses a wrong one', async () => {
    const { key, wrapped } = await createVault('482915', 1000);
    const sealed = await seal(key, { name: '王秀兰', sbp: 152 }, 'residents:7');
    const again = await unwrap('482915', wrapped);
    expect(await open(again, sealed, 'residents:7')).toEqual({ name: '王秀兰', sbp: 152 });
    await expect(unwrap('482916', wrapped)).rejects.toBeInstanceOf(WrongPinError);
  });

  it('keeps the data key out of reach: the unlocked key is not extractable', async () => {
    const { key } = await createVault('482915', 1000);
    expect(key.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
  });

  it('stores no plaintext: the sealed bytes do not contain the name', async () => {
    const { key } = await createVault('482915', 1000);
    const sealed = await seal(key, { name: 'ZHANGSAN-UNIQUE' }, 'residents:1');
    const bytes = new TextDecoder('latin1').decode(sealed.ct);
    expect(bytes).not.toContain('ZHANGSAN');
  });

  it('binds a payload to its row: moved to another row it does not open', async () => {
    const { key } = await createVault('482915', 1000);
    const sealed = await seal(key, { a: 1 }, 'tasks:1');
    await expect(open(key, sealed, 'tasks:2')).rejects.toThrow();
  });

  it('changes the PIN without re-encrypting the data', async () => {
    const { key, wrapped } = await createVault('482915', 1000);
    const sealed = await seal(key, [1, 2, 3], 'x');
    const rewrapped = await changePin('482915', '730164', wrapped);
    await expect(unwrap('482915', rewrapped)).rejects.toBeInstanceOf(WrongPinError);
    expect(await open(await unwrap('730164', rewrapped), sealed, 'x')).toEqual([1, 2, 3]);
    await expect(changePin('000001', '730164', wrapped)).rejects.toBeInstanceOf(WrongPinError);
  });

  it('uses at least 600k PBKDF2 iterations by default', async () => {
    expect(PBKDF2_ITERATIONS).toBeGreaterThanOrEqual(600_000);
    const { wrapped } = await createVault('482915');
    expect(wrapped.iterations).toBe(PBKDF2_ITERATIONS);
    expect(wrapped.salt.length).toBe(16);
  });

  it('asks for a 6-digit PIN that is not trivially guessed', () => {
    expect(pinProblem('12345')).toMatch('6 位数字');
    expect(pinProblem('12a456')).toMatch('6 位数字');
    expect(pinProblem('111111')).toMatch('过于简单');
    expect(pinProblem('123456')).toMatch('过于简单');
    expect(pinProblem('654321')).toMatch('过于简单');
    expect(pinProblem('482915')).toBeNull();
  });
});
