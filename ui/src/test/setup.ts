/** Vitest: the vocabulary the UI would load from the server (`GET /api/v1/vocabulary`), from the committed
 * snapshot that `tests/api/test_vocabulary.py` keeps equal to the server's catalogue. */
import { setVocabulary, type Vocabulary } from '../lib/vocabulary';
import vocabulary from './vocabulary.json';

setVocabulary(vocabulary as Vocabulary);
