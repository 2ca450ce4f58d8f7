import { describe, expect, it } from 'vitest';
import { deliveryStatusClass, isReplayable } from './deliveries';

describe('deliveries', () => {
  it('replays only what the server replays', () => {
    for (const s of ['failed', 'rejected', 'expired', 'waiting']) expect(isReplayable(s)).toBe(true);
    for (const s of ['processed', 'received', undefined]) expect(isReplayable(s)).toBe(false);
  });
  it('colours statuses', () => {
    expect(deliveryStatusClass('processed')).toBe('badge-ok');
    expect(deliveryStatusClass('failed')).toBe('badge-danger');
    expect(deliveryStatusClass('waiting')).toBe('badge-warn');
  });
});
