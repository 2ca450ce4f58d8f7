import { useEffect, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { training, type AttemptView, type Question } from '../../api/training';
import { Badge, ErrorBox, Loading } from '../../components/common';
import { countdown } from '../../lib/training';

/**
 * The trainee's exam on a phone: one question per card in the trainee's own order, each choice saved at once (the
 * server's time is what counts), a countdown, and the marked paper with the key after handing in.
 */
export default function ExamPage() {
  const id = Number(useParams().id);
  const [params] = useSearchParams();
  const resultNo = params.get('result');
  const [attempt, setAttempt] = useState<AttemptView | null>(null);
  const [chosen, setChosen] = useState<Record<number, string[]>>({});
  const [error, setError] = useState<unknown>(null);
  const [now, setNow] = useState(new Date());
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const load = resultNo ? training.examResult(id, Number(resultNo)) : training.startExam(id);
    load.then((a) => {
      setAttempt(a);
      setChosen(Object.fromEntries(a.questions.map((q) => [q.item_id, q.chosen])));
    }, setError);
  }, [id, resultNo]);

  useEffect(() => {
    const t = window.setInterval(() => setNow(new Date()), 1000);
    return () => window.clearInterval(t);
  }, []);

  const submitted = attempt?.status === 'submitted';
  const timeUp = attempt ? new Date(attempt.deadline_at).getTime() <= now.getTime() : false;

  const choose = (q: Question, key: string) => {
    if (submitted) return;
    const current = chosen[q.item_id] ?? [];
    const next = q.kind === 'multiple' ? (current.includes(key) ? current.filter((k) => k !== key) : [...current, key].sort()) : [key];
    setChosen({ ...chosen, [q.item_id]: next });
    training.answer(id, q.item_id, next).catch(setError);
  };

  const submit = async () => {
    if (!attempt) return;
    const unanswered = attempt.questions.filter((q) => !(chosen[q.item_id]?.length)).length;
    if (unanswered && !timeUp && !window.confirm(`还有 ${unanswered} 题未作答，确定交卷？`)) return;
    setBusy(true);
    try {
      const marked = await training.submitExam(id, Object.fromEntries(Object.entries(chosen).map(([k, v]) => [k, v])));
      setAttempt(marked);
      window.scrollTo(0, 0);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (!attempt) return <div className="page page-narrow">{error ? <ErrorBox error={error} /> : <Loading />}</div>;
  return (
    <div className="page page-narrow exam">
      <p><Link to={`/training/my/${id}`}>← 返回培训</Link></p>
      <div className="exam-head">
        <h1>{attempt.attempt_no === 1 ? '培训考试' : '补考'}</h1>
        {!submitted && <span className={timeUp ? 'badge badge-danger' : 'badge badge-info'} data-testid="countdown">剩余 {countdown(attempt.deadline_at, now)}</span>}
      </div>
      {submitted && (
        <div className={attempt.passed ? 'alert alert-ok' : 'alert alert-error'} data-testid="exam-score">
          得分 {attempt.score} 分（合格线 {attempt.pass_mark}）：{attempt.passed ? '合格' : '不合格'}
          {attempt.late && '；超过答题时限后保存的答案不计分'}
        </div>
      )}
      {!submitted && <p className="muted">共 {attempt.questions.length} 题，限时 {attempt.time_limit_min} 分钟，选择后自动保存。</p>}
      <ErrorBox error={error} />
      {attempt.questions.map((q) => (
        <div key={q.item_id} className="card question" data-testid="question">
          <div className="question-stem"><Badge>{q.kind_label}</Badge> {q.no}. {q.stem}</div>
          <div className="options" role={q.kind === 'multiple' ? 'group' : 'radiogroup'}>
            {q.options.map((o, i) => {
              const picked = (chosen[q.item_id] ?? []).includes(o.key);
              const right = submitted && q.answer?.includes(o.key);
              return (
                <button key={o.key} type="button" disabled={submitted}
                  className={`option${picked ? ' picked' : ''}${right ? ' right' : ''}`}
                  aria-pressed={picked} onClick={() => choose(q, o.key)}>
                  <span className="option-letter">{q.kind === 'true_false' ? '' : 'ABCDEFGH'[i]}</span> {o.text}
                </button>
              );
            })}
          </div>
          {submitted && (
            <p className={q.correct ? 'ok-text' : 'danger-text'}>{q.correct ? '✓ 正确' : '✗ 错误'}{q.explanation ? `　解析：${q.explanation}` : ''}</p>
          )}
        </div>
      ))}
      {!submitted && (
        <button type="button" className="btn btn-primary btn-block" disabled={busy} onClick={submit} data-testid="submit-exam">交卷</button>
      )}
    </div>
  );
}
