/** URL filters of a list page: a patch sets (non-empty) or drops keys, and any filter change goes back to page 1. */
export function patchedParams(params: URLSearchParams, patch: Record<string, string>): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [k, v] of Object.entries(patch)) {
    if (v) next.set(k, v);
    else next.delete(k);
  }
  if (!('page' in patch)) next.delete('page');
  return next;
}
