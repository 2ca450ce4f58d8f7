import { describe, expect, it, vi } from 'vitest';
import { sharedLoader } from './CatalogueSelect';

describe('sharedLoader', () => {
  it('fetches once for every field that asks', async () => {
    const load = vi.fn(async () => ['a', 'b']);
    const shared = sharedLoader(load);
    expect(await Promise.all([shared(), shared()])).toEqual([['a', 'b'], ['a', 'b']]);
    expect(await shared()).toEqual(['a', 'b']);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('asks again after a failure (offline, then back online)', async () => {
    const load = vi.fn().mockRejectedValueOnce(new Error('offline')).mockResolvedValueOnce(['x']);
    const shared = sharedLoader(load);
    await expect(shared()).rejects.toThrow('offline');
    expect(await shared()).toEqual(['x']);
    expect(load).toHaveBeenCalledTimes(2);
  });
});
