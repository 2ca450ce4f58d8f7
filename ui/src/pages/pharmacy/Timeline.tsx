import { formatDateTime } from '../../lib/time';
import type { PrescriptionDetail } from './api';

/** A prescription's trace (开具 → 审核中 → 干预 → 修改 → … → 用药), one list per version: a modified version
 * re-entered review in the same process. Time, who (by name), organisation, state and note. */
export function Timeline({ states, lines = [], reports = [] }: {
  states: PrescriptionDetail['states']; lines?: PrescriptionDetail['versions']; reports?: PrescriptionDetail['error_reports'];
}) {
  const versions = [...new Set(states.map((s) => s.version))];
  const byVersion = new Map(lines.map((v) => [v.version, v]));
  return (
    <div data-testid="rx-timeline">
      {versions.map((v) => (
        <section key={v} className="rx-version" data-testid={`rx-version-${v}`}>
          <h3>第{v}版{v > 1 ? '（修改后重新审核）' : ''}</h3>
          {byVersion.get(v) && (
            <div className="muted" data-testid={`rx-version-lines-${v}`}>
              处方：{byVersion.get(v)!.items.map((i) => i.text ?? i.name).join('；')}
              {byVersion.get(v)!.changes.length > 0 && <div>本版修改：{byVersion.get(v)!.changes.join('；')}</div>}
            </div>
          )}
          <ol className="timeline">
            {states.filter((s) => s.version === v).map((s, i) => (
              <li key={i} data-testid="rx-state">
                <strong>{s.label}</strong> · {formatDateTime(s.at)} · {s.actor_name ?? ''}{s.org_name ? `（${s.org_name}）` : ''}
                {s.note && <div className="muted">{s.note}</div>}
                {s.state === 'refused' && reports.some((r) => r.version === v) && (
                  <div className="muted" data-testid="rx-error-reported">已记录用药差错报告（{reports.find((r) => r.version === v)!.category_label}）</div>
                )}
              </li>
            ))}
          </ol>
        </section>
      ))}
    </div>
  );
}
