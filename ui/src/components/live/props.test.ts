import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { refOf, type LiveProps } from './VitalsPanel';

function Probe(props: LiveProps) {
  return createElement('span', null, String(refOf(props)));
}

describe('live component props', () => {
  it('take the room as `ref` (React 19 passes it to function components) or as `roomRef`', () => {
    expect(renderToString(createElement(Probe, { kind: 'consult', ref: 12 } as LiveProps))).toBe('<span>12</span>');
    expect(renderToString(createElement(Probe, { kind: 'consult', roomRef: 7 }))).toBe('<span>7</span>');
  });
});
