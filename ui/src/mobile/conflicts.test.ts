import { describe, expect, it } from 'vitest';
import { conflictText, invalidText, lastSyncLabel } from './conflicts';

describe('conflict wording', () => {
  it('names the new owner of a reassigned task and says the readings are kept', () => {
    const t = conflictText('task_reassigned', { current_holder: '王医生' });
    expect(t.title).toBe('任务已改派');
    expect(t.what).toContain('王医生');
    expect(t.what).toContain('测量值已保存');
    expect(t.todo).toBeTruthy();
  });
  it('never shows a username or a code to the doctor', () => {
    const t = conflictText('task_reassigned', { current_owner: 'vd_wang' });
    expect(t.what).not.toContain('vd_wang');
    expect(t.what).toContain('其他医生');
    const u = conflictText('some_new_reason', {}, 'conflict (english only)');
    expect(u.what).not.toContain('some_new_reason');
    expect(u.what).not.toContain('english');
  });
  it('has Chinese for every typed reason of the design', () => {
    for (const r of ['task_reassigned', 'task_completed_elsewhere', 'form_version_retired', 'already_completed', 'task_cancelled', 'task_gone', 'instance_migrated', 'schema_outdated', 'resident_out_of_scope']) {
      const t = conflictText(r);
      expect(t.title).toMatch(/[\u4e00-\u9fff]/);
      expect(t.title).not.toBe('提交未被接受');
    }
    expect(invalidText('收缩压须在 60-280 之间').what).toBe('收缩压须在 60-280 之间');
  });
  it('shows 最后同步 hh:mm today and the date on earlier days', () => {
    const now = new Date(2026, 11, 4, 15, 0);
    expect(lastSyncLabel(new Date(2026, 11, 4, 9, 5).toISOString(), now)).toBe('最后同步 09:05');
    expect(lastSyncLabel(new Date(2026, 11, 2, 18, 30).getTime(), now)).toBe('最后同步 12月2日 18:30');
    expect(lastSyncLabel(null, now)).toBe('尚未同步');
  });
});
