/** Organization names by code, loaded once per page load from the caller's scope (`GET /api/v1/organizations`). */
import { useCallback, useEffect, useState } from 'react';
import { organizations } from '../api/endpoints';

let cache: Promise<Record<string, string>> | null = null;

function load(): Promise<Record<string, string>> {
  cache ??= organizations.list().then(
    (list) => Object.fromEntries(list.map((o) => [o.code, o.name])),
    () => {
      cache = null; // try again next time
      return {};
    },
  );
  return cache;
}

/** A function from org code to its name (the code itself until the names arrive or when unknown). */
export function useOrgNames(): (code: string | null | undefined) => string {
  const [names, setNames] = useState<Record<string, string>>({});
  useEffect(() => {
    let alive = true;
    void load().then((n) => alive && setNames(n));
    return () => {
      alive = false;
    };
  }, []);
  return useCallback((code: string | null | undefined) => (code ? names[code] ?? code : '—'), [names]);
}
