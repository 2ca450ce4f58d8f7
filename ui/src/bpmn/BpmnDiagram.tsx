/**
 * A read-only BPMN diagram (bpmn-js NavigatedViewer: pan and zoom) with markers for completed, active and
 * failed elements, and count overlays (tokens waiting per element).
 */
import { useEffect, useRef, useState } from 'react';
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import { ErrorBox, Loading } from '../components/common';
import { ROLE_NAMES } from '../lib/roles';

export interface DiagramMarkers {
  completed?: string[];
  active?: string[];
  error?: string[];
}

interface Props {
  xml: string;
  markers?: DiagramMarkers;
  counts?: Record<string, number>;
  errorCounts?: Record<string, number>;
  errorNotes?: Record<string, string>;
  highlight?: string | null;
  onElementClick?: (id: string) => void;
  className?: string;
}

type Registry = { get(id: string): unknown; filter(fn: (e: { type: string; businessObject: { name?: string } }) => boolean): { id: string; businessObject: { name?: string } }[] };
type Canvas = { addMarker(id: string, m: string): void; removeMarker(id: string, m: string): void; zoom(z: string): void; scrollToElement?(el: unknown): void };
type Overlays = { add(id: string, type: string, o: { position: Record<string, number>; html: HTMLElement }): string; remove(f: { type: string }): void };

const MARKERS = ['ygt-completed', 'ygt-active', 'ygt-error', 'ygt-selected-history'];

export default function BpmnDiagram({ xml, markers, counts, errorCounts, errorNotes, highlight, onElementClick, className }: Props) {
  const el = useRef<HTMLDivElement>(null);
  const viewer = useRef<NavigatedViewer | null>(null);
  const [ready, setReady] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const clickRef = useRef(onElementClick);
  clickRef.current = onElementClick;

  useEffect(() => {
    const v = new NavigatedViewer({ container: el.current! });
    viewer.current = v;
    v.on('element.click', (e: { element: { id: string; type: string } }) => {
      if (e.element.type !== 'bpmn:Process' && e.element.type !== 'bpmn:Collaboration') clickRef.current?.(e.element.id);
    });
    return () => {
      v.destroy();
      viewer.current = null;
    };
  }, []);

  useEffect(() => {
    const v = viewer.current;
    if (!v) return;
    let cancelled = false;
    setError(null);
    setReady(0);
    v.importXML(xml).then(
      () => {
        if (cancelled) return;
        (v.get('canvas') as Canvas).zoom('fit-viewport');
        setReady((r) => r + 1);
      },
      (e: unknown) => !cancelled && setError(e),
    );
    return () => {
      cancelled = true;
    };
  }, [xml]);

  useEffect(() => {
    const v = viewer.current;
    if (!v || !ready) return;
    const canvas = v.get('canvas') as Canvas;
    const registry = v.get('elementRegistry') as Registry;
    const overlays = v.get('overlays') as Overlays;
    const touched: [string, string][] = [];
    const mark = (ids: string[] | undefined, cls: string) => {
      for (const id of ids ?? []) {
        if (!registry.get(id)) continue;
        canvas.addMarker(id, cls);
        touched.push([id, cls]);
      }
    };
    mark(markers?.completed, 'ygt-completed');
    mark(markers?.active, 'ygt-active');
    mark(markers?.error, 'ygt-error');
    if (highlight) mark([highlight], 'ygt-selected-history');
    for (const [id, n] of Object.entries(counts ?? {})) {
      if (!registry.get(id)) continue;
      const badge = document.createElement('div');
      badge.className = n > 0 ? 'token-count' : 'token-count is-zero';
      badge.textContent = String(n);
      badge.title = `当前停留 ${n} 个`;
      badge.dataset.elementId = id;
      overlays.add(id, 'ygt-count', { position: { top: -10, right: 10 }, html: badge });
    }
    for (const [id, n] of Object.entries(errorCounts ?? {})) {
      if (!registry.get(id) || !n) continue;
      const badge = document.createElement('div');
      badge.className = 'token-count is-error';
      badge.textContent = `${n} 出错`;
      badge.title = `${n} 个实例在此出错`;
      overlays.add(id, 'ygt-count', { position: { bottom: 4, right: 10 }, html: badge });
    }
    // Lanes name roles by code: say who that is in Chinese.
    for (const lane of registry.filter((e) => e.type === 'bpmn:Lane')) {
      const zh = ROLE_NAMES[lane.businessObject.name ?? ''];
      if (!zh) continue;
      const tag = document.createElement('div');
      tag.className = 'lane-role';
      tag.textContent = zh;
      overlays.add(lane.id, 'ygt-count', { position: { top: 4, left: 36 }, html: tag });
    }
    for (const [id, note] of Object.entries(errorNotes ?? {})) {
      if (!registry.get(id)) continue;
      const box = document.createElement('div');
      box.className = 'error-overlay';
      box.textContent = note;
      overlays.add(id, 'ygt-note', { position: { bottom: -6, left: 0 }, html: box });
    }
    return () => {
      for (const [id, cls] of touched) canvas.removeMarker(id, cls);
      overlays.remove({ type: 'ygt-count' });
      overlays.remove({ type: 'ygt-note' });
    };
  }, [ready, markers, counts, errorCounts, errorNotes, highlight]);

  return (
    <div className={`canvas ${className ?? ''}`} data-testid="bpmn-canvas">
      <div ref={el} style={{ position: 'absolute', inset: 0 }} />
      {!ready && !error && (
        <div style={{ position: 'absolute', inset: 0 }}>
          <Loading text="正在绘制流程图…" />
        </div>
      )}
      {error ? (
        <div style={{ position: 'absolute', inset: 0, padding: '1rem' }}>
          <ErrorBox error={new Error(`流程图无法显示：${(error as Error).message ?? error}`)} />
        </div>
      ) : null}
    </div>
  );
}

export { MARKERS };
