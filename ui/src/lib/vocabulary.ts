/**
 * The platform's vocabulary (codes → Chinese labels) as the server defines it: `GET /api/v1/vocabulary`.
 * The UI keeps no label tables of its own. `vocabMap('disease')` is a live map filled when the vocabulary loads
 * (before the app renders, see main.tsx): `label(vocabMap('disease'), code)`. Old aliases (`dm`) resolve to the
 * same label but are not listed (`Object.entries` gives the codes a select offers).
 */
import { api } from '../api/client';
import type { components } from '../api/schema.gen';
import { setTimeZone } from './time';

/** One coded value (the API's `Term` schema). */
export type Term = components['schemas']['Term'];

export type Vocabulary = Record<string, Term[]>;

const maps: Record<string, Record<string, string>> = {};
const codeLists: Record<string, string[]> = {};
let loaded: Vocabulary = {};

/** The live code → label map of one vocabulary (empty until the vocabulary is loaded). */
export function vocabMap(kind: string): Record<string, string> {
  return (maps[kind] ??= {});
}

/** The live list of codes of one vocabulary, in the server's order. */
export function vocabCodes(kind: string): string[] {
  return (codeLists[kind] ??= []);
}

export function vocabTerms(kind: string): Term[] {
  return loaded[kind] ?? [];
}

/** Fill every map from a vocabulary (the API's answer; tests pass the committed snapshot). */
export function setVocabulary(vocabulary: Vocabulary): void {
  loaded = vocabulary;
  const zone = vocabulary.display_time_zone?.[0]?.code;
  if (zone) setTimeZone(zone);
  for (const [kind, terms] of Object.entries(vocabulary)) {
    const map = vocabMap(kind);
    for (const key of Object.getOwnPropertyNames(map)) delete map[key];
    const codes = vocabCodes(kind);
    codes.length = 0;
    for (const term of terms) {
      map[term.code] = term.label;
      codes.push(term.code);
      for (const alias of term.aliases ?? []) {
        Object.defineProperty(map, alias, { value: term.label, enumerable: false, configurable: true });
      }
    }
  }
}

/** Load the vocabulary once at start; on failure the UI still works and shows codes as they are. */
export async function loadVocabulary(): Promise<void> {
  try {
    setVocabulary(await api.get<Vocabulary>('/api/v1/vocabulary', undefined, { noAuthRedirect: true }));
  } catch {
    /* offline or an old server: labels fall back to the codes */
  }
}
