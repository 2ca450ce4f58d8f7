/** Whom a task can be handed to (转交他人): its candidates by name, never a raw username in front of a clinician. */

export interface Candidate {
  id?: number | null;
  username?: string | null;
  display_name?: string | null;
}

export interface HandoverChoice {
  username: string;
  label: string;
}

/**
 * The task's candidates the caller can hand it to: not the caller, not its current holder, each once, by display
 * name; two people with the same name are told apart by a number ("王医生（2）"), not by their usernames.
 */
export function handoverChoices(candidates: ReadonlyArray<Candidate | string>, exclude: ReadonlyArray<string | null | undefined>): HandoverChoice[] {
  const skip = new Set(exclude.filter((u): u is string => !!u));
  const seen = new Set<string>();
  const choices: HandoverChoice[] = [];
  for (const c of candidates) {
    const username = typeof c === 'string' ? c : (c.username ?? '');
    if (!username || skip.has(username) || seen.has(username)) continue;
    seen.add(username);
    const name = typeof c === 'string' ? '' : (c.display_name ?? '').trim();
    choices.push({ username, label: name && name !== username ? name : '未填写姓名的同事' });
  }
  const counts = new Map<string, number>();
  for (const c of choices) counts.set(c.label, (counts.get(c.label) ?? 0) + 1);
  const numbered = new Map<string, number>();
  return choices.map((c) => {
    if ((counts.get(c.label) ?? 0) < 2) return c;
    const n = (numbered.get(c.label) ?? 0) + 1;
    numbered.set(c.label, n);
    return { ...c, label: `${c.label}（${n}）` };
  });
}
