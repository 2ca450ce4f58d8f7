import { Link, useParams } from 'react-router-dom';
import { Badge, ErrorBox, Loading } from '../../components/common';
import { formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { GRADE, prescriptions } from './api';
import { Timeline } from './Timeline';
import { Findings } from './PharmacyPage';

const FREQUENCY: Record<string, string> = { qd: '每日1次', bid: '每日2次', tid: '每日3次', q12h: '每12小时1次', q8h: '每8小时1次', qn: '每晚1次' };

/** One prescription: its lines, the automatic findings and its trace as a timeline, grouped by version (a modified
 * version re-entered review in the same process). */
export default function PrescriptionPage() {
  const id = Number(useParams().id);
  const rx = useAsync(() => prescriptions.get(id), [id]);
  if (rx.loading) return <div className="page"><Loading /></div>;
  if (rx.error || !rx.data) return <div className="page"><ErrorBox error={rx.error} onRetry={rx.reload} /></div>;
  const p = rx.data;
  return (
    <div className="page page-narrow prescription-page">
      <p><Link to="/pharmacy">← 审方工作台</Link></p>
      <h1>处方 {p.rx_id}</h1>
      <p>
        <Badge kind={GRADE[p.grade]?.[1]}>{GRADE[p.grade]?.[0] ?? p.grade_label}</Badge>{' '}
        <Badge>{p.status_label}</Badge> 第{p.version}版
      </p>
      <dl className="facts">
        <dt>开方机构</dt><dd>{p.org_name}</dd>
        <dt>开方医生</dt><dd>{p.prescriber}</dd>
        <dt>诊断</dt><dd>{p.diagnosis}</dd>
        <dt>审方中心</dt><dd>{p.review_org_name}</dd>
        <dt>居民</dt><dd><Link to={`/residents/${p.resident_id}`}>查看居民档案</Link></dd>
      </dl>
      <h2>当前处方</h2>
      <ul>{p.items.map((line, i) => <li key={i}>{line.name} {line.dose_mg} mg {FREQUENCY[line.frequency] ?? '按医嘱'}{line.days ? ` × ${line.days}天` : ''}</li>)}</ul>
      <h2>自动审核结果</h2>
      <Findings findings={p.findings} />
      {p.error_reports.length > 0 && (
        <section data-testid="rx-error-reports">
          <h2>用药差错报告</h2>
          {p.error_reports.map((r) => (
            <dl className="facts" key={r.id}>
              <dt>差错分级</dt><dd>{r.category_label}</dd>
              <dt>处方版本</dt><dd>第{r.version}版</dd>
              <dt>开方机构</dt><dd>{r.org_name}</dd>
              <dt>开方医生</dt><dd>{r.prescriber}</dd>
              <dt>拒绝药师</dt><dd>{r.pharmacist_name}{r.double_signed ? `（双签复核；首审药师 ${r.first_pharmacist_name ?? ''}）` : ''}</dd>
              <dt>问题类型</dt><dd>{r.problem_labels.length ? r.problem_labels.join('、') : '未选择'}</dd>
              <dt>审核意见</dt><dd>{r.opinion || '无'}</dd>
              <dt>记录时间</dt><dd>{formatDateTime(r.created_at)}</dd>
            </dl>
          ))}
        </section>
      )}
      <h2>处方追溯</h2>
      <Timeline states={p.states} lines={p.versions} reports={p.error_reports} />
    </div>
  );
}
