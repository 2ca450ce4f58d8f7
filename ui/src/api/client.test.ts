import { describe, expect, it } from 'vitest';
import { ApiError, buildUrl, chineseOnly, errorFromResponse, messageFor, readCookie } from './client';

describe('api client', () => {
  it('reads the CSRF cookie by name', () => {
    expect(readCookie('ygt_csrf', 'a=1; ygt_csrf=abc%3D; b=2')).toBe('abc=');
    expect(readCookie('ygt_csrf', 'a=1')).toBeNull();
  });

  it('leaves out empty query values', () => {
    expect(buildUrl('/api/v1/tasks', { view: 'mine', q: '', page: 2, overdue: undefined })).toBe('/api/v1/tasks?view=mine&page=2');
  });

  it('keeps the Chinese part of a bilingual server message', () => {
    expect(chineseOnly('请求数据不合法 (invalid request body)')).toBe('请求数据不合法');
    expect(chineseOnly('收缩压 (mmHg) 必填')).toBe('收缩压 (mmHg) 必填');
    expect(messageFor(500, 'internal_error', 'boom')).toBe('服务器出错了，请稍后再试');
    expect(messageFor(409, 'task_already_completed', 'already completed')).toBe('该任务已被完成');
  });

  it('turns the platform error shape into an ApiError with field errors for rjsf', async () => {
    const res = new Response(
      JSON.stringify({ code: 'validation_error', message: '表单有误', details: { errors: [{ field: 'sbp', message: '必须大于等于 40' }] } }),
      { status: 422, headers: { 'Content-Type': 'application/json' } },
    );
    const err = await errorFromResponse(res);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('validation_error');
    expect(err.message).toBe('表单有误');
    expect(err.extraErrors).toEqual({ sbp: { __errors: ['必须大于等于 40'] } });
  });

  it('words a response that is not JSON by its status', async () => {
    const err = await errorFromResponse(new Response('<html>', { status: 503 }));
    expect(err.code).toBe('http_503');
    expect(err.message).toBe('服务暂不可用，请稍后再试');
    expect(err.isUnavailable).toBe(false);
  });
});
