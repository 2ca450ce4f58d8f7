/** Replay of a DMN draft over recent real evaluations (issue 14.14): the words the DMN editor shows. */

export interface ReplayMatrixRow {
  output: string;
  from: unknown;
  to: unknown;
  from_label: string;
  to_label: string;
  count: number;
}

export interface ReplayResult {
  decision_id: string;
  deployed_version?: number | null;
  draft_sha256?: string;
  limit: number;
  replayed: number;
  changed: number;
  unchanged: number;
  errors: { from: number; to: number };
  outputs: string[];
  matrix: ReplayMatrixRow[];
  examples: {
    inputs: Record<string, unknown>;
    from: Record<string, unknown>;
    to: Record<string, unknown>;
    changes: { output: string; from_label: string; to_label: string }[];
  }[];
  oldest_at?: string | null;
  newest_at?: string | null;
}

/** Chinese names of the outputs of the bundled grading tables; a modeler's own column keeps its name. */
const OUTPUT_LABELS: Record<string, string> = {
  risk_resolved: '风险分层',
  risk_raw: '风险分层（原表格）',
  bp_grade: '血压分级',
  isolated_systolic: '单纯收缩期高血压',
  risk_table_column: '分层表血压列',
  burden: '危险因素与病史类别',
};

export function outputLabel(name: string): string {
  return OUTPUT_LABELS[name] ?? name;
}

/** The headline: how many of how many would change. */
export function replayHeadline(r: ReplayResult): string {
  if (r.replayed === 0) return '暂无可回放的真实评估记录（上线后的评估会记录输入，之后即可回放）';
  if (r.changed === 0) return `回放最近 ${r.replayed} 次真实评估：结果全部不变`;
  const pct = Math.round((1000 * r.changed) / r.replayed) / 10;
  return `回放最近 ${r.replayed} 次真实评估：${r.changed} 次结果将改变（${pct}%），${r.unchanged} 次不变`;
}

/** One line per from → to cell, largest first: "37 次将从 中危 变为 高危（风险分层）". When only one output
 * changed its name is left out. */
export function replayLines(r: ReplayResult): string[] {
  const outputs = new Set(r.matrix.map((m) => m.output));
  return [...r.matrix]
    .sort((a, b) => b.count - a.count)
    .map((m) => `${m.count} 次将从 ${m.from_label} 变为 ${m.to_label}` + (outputs.size > 1 ? `（${outputLabel(m.output)}）` : ''));
}

/** An example's inputs as "收缩压 150，舒张压 92" with the input columns' labels. */
export function exampleInputs(inputs: Record<string, unknown>, labels: Record<string, string>): string {
  return Object.entries(inputs)
    .map(([k, v]) => `${labels[k] ?? k} ${v === null || v === undefined ? '—' : typeof v === 'boolean' ? (v ? '是' : '否') : String(v)}`)
    .join('，');
}

/** The replay id to pass on deploy: only when the draft being deployed is exactly the one replayed. */
export function replayForDeploy(last: { id: string; xml: string } | null, deployingXml: string): string | undefined {
  return last && last.xml === deployingXml ? last.id : undefined;
}

/** What changed for one example: "风险分层 中危 → 高危". */
export function exampleChanges(changes: { output: string; from_label: string; to_label: string }[]): string {
  return changes.map((c) => `${outputLabel(c.output)} ${c.from_label} → ${c.to_label}`).join('；');
}
