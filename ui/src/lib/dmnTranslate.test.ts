import { describe, expect, it } from 'vitest';
import { DMN_ZH, dmnZhOptions, dmnZhTranslateModule, translateDmnZh } from './dmnTranslate';

// every string dmn-js's editors pass to `translate(...)`, read from the installed packages
const sources = import.meta.glob(
  ['../../node_modules/dmn-js-decision-table/lib/**/*.js', '../../node_modules/dmn-js-shared/lib/**/*.js',
    '../../node_modules/dmn-js-drd/lib/**/*.js', '../../node_modules/dmn-js-literal-expression/lib/**/*.js'],
  { eager: true, query: '?raw', import: 'default' },
) as Record<string, string>;

function translatedStrings(): string[] {
  const found = new Set<string>();
  for (const text of Object.values(sources)) {
    for (const m of text.matchAll(/translate\(\s*'([^']+)'/g)) found.add(m[1]);
  }
  return [...found].sort();
}

describe('the DMN editor speaks Chinese (14.13)', () => {
  it('has a Chinese entry for every string dmn-js translates', () => {
    const strings = translatedStrings();
    expect(strings.length).toBeGreaterThan(100);
    expect(strings.filter((s) => !(s in DMN_ZH))).toEqual([]);
  });

  it('is installed in every view (dmn-js drops common.additionalModules)', () => {
    for (const view of ['drd', 'decisionTable', 'literalExpression', 'boxedExpression']) {
      expect(dmnZhOptions[view].additionalModules).toContain(dmnZhTranslateModule);
    }
    expect(translateDmnZh('First')).toBe('首条命中 (FIRST)');
  });

  it('fills replacements and keeps unknown strings', () => {
    expect(translateDmnZh('Add rule')).toBe('添加规则');
    expect(translateDmnZh('Expression language: {expressionLanguageLabel}', { expressionLanguageLabel: 'FEEL' })).toBe('表达式语言：FEEL');
    expect(translateDmnZh('Something new')).toBe('Something new');
  });
});
