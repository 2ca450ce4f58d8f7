/** Instance counts from the stats endpoint, whatever shape it answers in. */
type Counts = Record<string, number>;

/** Read counts by status and by process from whatever shape the stats endpoint answers. */
export function normalizeStats(raw: unknown): { byStatus: Counts; byProcess: Counts } {
  const out = { byStatus: {} as Counts, byProcess: {} as Counts };
  if (!raw || typeof raw !== 'object') return out;
  const r = raw as Record<string, unknown>;
  const asCounts = (v: unknown, key: string): Counts => {
    if (Array.isArray(v)) {
      const c: Counts = {};
      for (const row of v as Record<string, unknown>[]) {
        const k = String(row[key] ?? row.key ?? row.name ?? '');
        if (k) c[k] = (c[k] ?? 0) + Number(row.count ?? row.total ?? 0);
      }
      return c;
    }
    if (v && typeof v === 'object') {
      // {key: n} or {key: {status: n, …}} (by_process carries counts per status): sum the inner counts.
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, n]) => [
          k,
          n && typeof n === 'object'
            ? Number((n as Record<string, unknown>).total ?? Object.values(n as Record<string, unknown>).reduce<number>((a, b) => a + (Number(b) || 0), 0))
            : Number(n) || 0,
        ]),
      );
    }
    return {};
  };
  out.byStatus = asCounts(r.by_status ?? r.status, 'status');
  out.byProcess = asCounts(r.by_process ?? r.process, 'process_id');
  if (!Object.keys(out.byStatus).length && Array.isArray(r.items)) {
    for (const row of r.items as Record<string, unknown>[]) {
      const n = Number(row.count ?? 0);
      const s = String(row.status ?? '');
      const p = String(row.process_id ?? '');
      if (s) out.byStatus[s] = (out.byStatus[s] ?? 0) + n;
      if (p) out.byProcess[p] = (out.byProcess[p] ?? 0) + n;
    }
  }
  return out;
}

