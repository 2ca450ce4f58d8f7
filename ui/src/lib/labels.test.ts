import { describe, expect, it } from 'vitest';
import { assigneeOf, isAssignedTo, priorityLabel } from './labels';

describe('task labels', () => {
  it('reads the assignee as a user object, a username or an id', () => {
    const me = { id: 7, username: 'village_doctor1' };
    expect(isAssignedTo({ assignee: { id: 7, username: 'village_doctor1', display_name: '王村医' } }, me)).toBe(true);
    expect(isAssignedTo({ assignee: 'village_doctor1' }, me)).toBe(true);
    expect(isAssignedTo({ assignee: null, assignee_id: 7 }, me)).toBe(true);
    expect(isAssignedTo({ assignee: { id: 8, username: 'other' } }, me)).toBe(false);
    expect(assigneeOf({ assignee: { id: 8, username: 'other', display_name: '李医生' } })?.name).toBe('李医生');
    expect(assigneeOf({ assignee: null })).toBeNull();
  });

  it('words priority 1 (most urgent) to 5', () => {
    expect(priorityLabel(1)).toEqual({ text: '紧急', urgent: true });
    expect(priorityLabel(2)).toEqual({ text: '优先', urgent: true });
    expect(priorityLabel(3)).toBeNull();
    expect(priorityLabel(5)).toEqual({ text: '低', urgent: false });
  });
});
