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

describe('what the doctor can do with a conflict', () => {
  it('offers note and ad-hoc visit when the task went elsewhere, a visit only when the note is already there', async () => {
    const { conflictActions } = await import('./conflicts');
    expect(conflictActions('task_completed_elsewhere')).toEqual(['attach_as_note', 'record_visit']);
    expect(conflictActions('task_cancelled')).toEqual(['attach_as_note', 'record_visit']);
    expect(conflictActions('task_reassigned')).toEqual(['record_visit']);
    expect(conflictActions('form_version_retired')).toEqual(['refill']);
    expect(conflictActions('lease_expired')).toEqual(['refill']);
    expect(conflictActions('task_gone')).toEqual([]);
  });
  it('labels and outcomes are plain Chinese', async () => {
    const { ACTION_LABELS, conflictText, resolutionText } = await import('./conflicts');
    expect(Object.values(ACTION_LABELS).every((l) => /^[\u4e00-\u9fff]+$/.test(l))).toBe(true);
    expect(conflictText('lease_expired').title).toBe('离线期限已过');
    expect(resolutionText('queued', 'record_visit')).toContain('待发送');
    expect(resolutionText('done', 'record_visit', '已在居民档案中记为一次临时随访')).toBe('已在居民档案中记为一次临时随访');
    expect(resolutionText('done', 'record_visit', 'ok')).toBe('已记为临时随访');
    expect(resolutionText('conflict', 'attach_as_note', undefined, 'no_open_task_for_note')).toContain('记为临时随访');
  });
});
