import { describe, expect, it } from 'vitest';
import { leavesPage } from './unsaved';

describe('leavesPage', () => {
  const here = new URL('https://ygt.example/modeler?process=screening&version=2');
  it('counts another page or another model as leaving', () => {
    expect(leavesPage('/inbox', null, here)).toBe(true);
    expect(leavesPage('/modeler?decision=bp_grade', null, here)).toBe(true);
    expect(leavesPage('https://elsewhere.example/', null, here)).toBe(true);
  });
  it('does not ask for the same page, anchors, downloads or new tabs', () => {
    expect(leavesPage('/modeler?process=screening&version=2', null, here)).toBe(false);
    expect(leavesPage('#top', null, here)).toBe(false);
    expect(leavesPage('blob:https://ygt.example/1', null, here)).toBe(false);
    expect(leavesPage('/inbox', '_blank', here)).toBe(false);
    expect(leavesPage(null, null, here)).toBe(false);
  });
});
