import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { residents } from '../api/endpoints';
import type { Resident } from '../api/types';
import { Badge, Empty, ErrorBox, Loading, Pager } from '../components/common';
import { useAsync } from '../lib/useAsync';
import { useOrgNames } from '../lib/orgs';
import { DISEASES, RISK_LEVELS, SEX, label, riskClass } from '../lib/labels';


export function conditionNames(r: Resident): string[] {
  return (r.conditions ?? []).map((c) => c.name ?? c.display ?? label(DISEASES, c.disease ?? c.code));
}

export default function ResidentsPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const page = Number(params.get('page') ?? 1) || 1;
  const [text, setText] = useState(q);
  const list = useAsync(() => residents.search(q, page), [q, page]);
  const orgName = useOrgNames();

  return (
    <div className="page">
      <div className="page-head">
        <h1>居民档案</h1>
      </div>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setParams(text ? { q: text } : {}, { replace: true });
        }}
      >
        <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="姓名（可只输姓）或 18 位身份证号" aria-label="搜索居民" />
        <button type="submit" className="btn btn-primary">
          搜索
        </button>
      </form>
      {list.loading && !list.data ? (
        <Loading />
      ) : list.error ? (
        <ErrorBox error={list.error} onRetry={list.reload} />
      ) : !list.data?.items.length ? (
        <Empty title={q ? '没有找到符合条件的居民' : '您的管理范围内暂无居民'} />
      ) : (
        <>
          <div className="list-summary">共 {list.data.total} 人（仅显示您管理范围内的居民，身份证号已脱敏）</div>
          <div className="table-wrap card" style={{ padding: 0 }}>
            <table className="table" data-testid="resident-table">
              <thead>
                <tr>
                  <th>姓名</th>
                  <th>性别</th>
                  <th>年龄</th>
                  <th>身份证号</th>
                  <th>所属</th>
                  <th>慢病</th>
                  <th>风险</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Link to={`/residents/${r.id}`}>{r.name}</Link>
                    </td>
                    <td>{SEX[r.sex ?? ''] ?? r.sex ?? '—'}</td>
                    <td>{r.age ?? '—'}</td>
                    <td className="mono">{r.id_number_masked ?? r.id_number ?? '—'}</td>
                    <td>{r.village ?? r.org_name ?? orgName(r.org_code)}</td>
                    <td>{conditionNames(r).join('、') || '—'}</td>
                    <td>
                      {(r.risk_levels ?? []).map((x, i) => (
                        <Badge key={i} kind={riskClass(x.level ?? x.risk_level)}>
                          {x.disease ? `${label(DISEASES, x.disease)} ` : ''}
                          {label(RISK_LEVELS, x.level ?? x.risk_level)}
                        </Badge>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={page} perPage={20} total={list.data.total} onPage={(p) => setParams({ ...(q ? { q } : {}), page: String(p) }, { replace: true })} />
        </>
      )}
    </div>
  );
}
