import { describe, expect, it } from 'vitest';
import { handoverChoices } from './handover';

describe('handover choices', () => {
  it('offers candidates by name, without the caller or the holder', () => {
    const choices = handoverChoices(
      [
        { id: 1, username: 'village_doctor1', display_name: '李村医' },
        { id: 2, username: 'village_doctor2', display_name: '赵村医' },
        { id: 3, username: 'township_doctor1', display_name: '张医生' },
      ],
      ['village_doctor1', 'township_doctor1'],
    );
    expect(choices).toEqual([{ username: 'village_doctor2', label: '赵村医' }]);
  });

  it('never shows a username: a nameless colleague and namesakes are told apart otherwise', () => {
    const choices = handoverChoices(
      [
        { username: 'wang1', display_name: '王医生' },
        { username: 'wang2', display_name: '王医生' },
        { username: 'wang2', display_name: '王医生' },
        { username: 'x_9', display_name: 'x_9' },
        'plain_user',
        { username: null, display_name: '无账号' },
      ],
      [undefined, null],
    );
    expect(choices.map((c) => c.label)).toEqual(['王医生（1）', '王医生（2）', '未填写姓名的同事（1）', '未填写姓名的同事（2）']);
    expect(choices.map((c) => c.username)).toEqual(['wang1', 'wang2', 'x_9', 'plain_user']);
    for (const c of choices) expect(c.label).not.toContain(c.username);
  });
});
