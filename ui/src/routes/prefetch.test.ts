import { describe, expect, it } from 'vitest';
import { prefetchPlan, takePrefetched } from './prefetch';

describe('boot prefetch plan', () => {
  it('asks for the task and the user on a task route', () => {
    expect(prefetchPlan('/tasks/102')).toEqual({ me: true, taskId: '102' });
    expect(prefetchPlan('/tasks/a%2Fb/')).toEqual({ me: true, taskId: 'a/b' });
  });
  it('asks only for the user elsewhere, and nothing on the login page', () => {
    expect(prefetchPlan('/inbox')).toEqual({ me: true, taskId: null });
    expect(prefetchPlan('/tasks/102/comments')).toEqual({ me: true, taskId: null });
    expect(prefetchPlan('/login')).toEqual({ me: false, taskId: null });
  });
  it('gives nothing for a request never started', () => {
    expect(takePrefetched('task:1')).toBeUndefined();
  });
});
