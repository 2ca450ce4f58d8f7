/**
 * One door to the platform API: same-origin, cookies included, JSON in and out, CSRF header on unsafe
 * methods, and every failure turned into an ApiError carrying the platform's `{code, message, details}`.
 */
import { extraErrorsFromDetails } from '../lib/formErrors';
import type { ErrorSchema } from '@rjsf/utils';

export const CSRF_COOKIE = 'ygt_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly serverMessage: string;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}, serverMessage = '') {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.serverMessage = serverMessage;
  }

  /** Field errors of a 422, ready for rjsf `extraErrors`. */
  get extraErrors(): ErrorSchema | undefined {
    return this.status === 422 ? extraErrorsFromDetails(this.details, 'data') : undefined;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }

  /**
   * The endpoint does not exist on this server (yet): the UI shows "暂不可用" rather than an error.
   * A route-level 404 carries the framework's English text; a 404 of the platform (out of scope) is Chinese.
   */
  get isUnavailable(): boolean {
    if (this.status === 405 || this.status === 501) return true;
    return this.status === 404 && (this.code.startsWith('http_') || !HAS_CJK.test(this.serverMessage));
  }
}

const STATUS_MESSAGES: Record<number, string> = {
  0: '无法连接服务器，请检查网络后重试',
  400: '请求有误',
  401: '登录已过期，请重新登录',
  403: '没有权限执行此操作',
  404: '未找到，或不在您的管理范围内',
  405: '该功能暂不可用',
  409: '数据已被他人修改，请刷新后重试',
  412: '数据已变化，请刷新后重试',
  413: '文件太大',
  422: '提交的数据有误，请检查标红的字段',
  429: '操作太频繁，请稍后再试',
  500: '服务器出错了，请稍后再试',
  501: '该功能暂不可用',
  502: '服务器暂时无法访问，请稍后再试',
  503: '服务暂不可用，请稍后再试',
  504: '服务器响应超时，请稍后再试',
};

/** Chinese wording for stable error codes whose server message may be technical. */
const CODE_MESSAGES: Record<string, string> = {
  task_already_completed: '该任务已被完成',
  task_reassigned: '该任务已转给他人',
  definition_changed: '流程定义已更新，请刷新后重试',
  already_claimed: '该任务已被他人领取',
  invalid_credentials: '用户名或密码错误',
  too_many_attempts: '登录失败次数过多，请稍后再试',
  csrf_failed: '页面已过期，请刷新后重试',
  invalid_definition: '模型校验未通过',
  invalid_id_number: '身份证号校验位不正确',
  draft_too_large: '决策表过大，无法分析',
  analysis_timeout: '分析超时，已停止',
  analysis_failed: '分析失败',
  rate_limited: '操作过于频繁，请稍后再试',
};

const HAS_CJK = /[\u4e00-\u9fff]/;

/** The platform writes "中文 (english)"; people here read the Chinese part. */
export function chineseOnly(message: string): string {
  const trimmed = message.replace(/\s*\((?=[^()]*[A-Za-z])[^()\u4e00-\u9fff]*\)\s*$/, '');
  return HAS_CJK.test(trimmed) ? trimmed : message;
}

/** The message people read: the server's own if it is Chinese, else one worded here. */
export function messageFor(status: number, code: string, serverMessage?: string): string {
  if (serverMessage && HAS_CJK.test(serverMessage)) return chineseOnly(serverMessage);
  return CODE_MESSAGES[code] ?? STATUS_MESSAGES[status] ?? (status >= 500 ? STATUS_MESSAGES[500] : `请求失败（${status}）`);
}

export function readCookie(name: string, cookies: string = typeof document === 'undefined' ? '' : document.cookie): string | null {
  for (const part of cookies.split(';')) {
    const [k, ...rest] = part.trim().split('=');
    if (k === name) return decodeURIComponent(rest.join('='));
  }
  return null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Do not jump to /login on a 401 (the login page itself, the "who am I" probe). */
  noAuthRedirect?: boolean;
  /** Answer text instead of JSON (XML downloads). */
  text?: boolean;
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    qs.set(k, String(v));
  }
  const s = qs.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

let onUnauthorized: () => void = () => {
  if (typeof window === 'undefined') return;
  if (window.location.pathname === '/login') return;
  const next = window.location.pathname + window.location.search;
  window.location.assign(`/login?next=${encodeURIComponent(next)}`);
};

/** Let the app replace the 401 behaviour (the router navigates instead of reloading). */
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

export function csrfHeaders(method: string): Record<string, string> {
  if (SAFE_METHODS.has(method.toUpperCase())) return {};
  const token = readCookie(CSRF_COOKIE);
  return token ? { [CSRF_HEADER]: token } : {};
}

/** Turn a non-2xx response into an ApiError, reading the platform's error shape when present. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let serverMessage: string | undefined;
  let details: Record<string, unknown> = {};
  try {
    const body = (await res.json()) as Record<string, unknown>;
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.message === 'string') serverMessage = body.message;
    if (body.details && typeof body.details === 'object') details = body.details as Record<string, unknown>;
    // flask-smorest/webargs answer 422 as {"errors": {"json": {field: [msg]}}}: accept that too.
    if (!body.details && body.errors && typeof body.errors === 'object') {
      const e = body.errors as Record<string, unknown>;
      const fields = (e.json ?? e.query ?? e.form ?? e) as Record<string, unknown>;
      details = { fields };
    }
  } catch {
    /* not JSON: keep the status wording */
  }
  return new ApiError(res.status, code, messageFor(res.status, code, serverMessage), details, serverMessage ?? '');
}

export async function request<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = (opts.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = { Accept: opts.text ? '*/*' : 'application/json', ...csrfHeaders(method), ...opts.headers };
  let body: BodyInit | undefined;
  if (opts.body instanceof FormData) {
    body = opts.body;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), { method, headers, body, credentials: 'include', signal: opts.signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network_error', STATUS_MESSAGES[0]);
  }
  if (res.status === 401 && !opts.noAuthRedirect) onUnauthorized();
  if (!res.ok) throw await errorFromResponse(res);
  if (res.status === 204) return undefined as T;
  if (opts.text) return (await res.text()) as T;
  const type = res.headers.get('Content-Type') ?? '';
  if (!type.includes('json')) return (await res.text()) as T;
  return (await res.json()) as T;
}

/** Upload with progress (fetch has no upload progress): XMLHttpRequest with the same conventions. */
export function upload<T = unknown>(path: string, form: FormData, onProgress?: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [k, v] of Object.entries(csrfHeaders('POST'))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable && onProgress) onProgress(ev.loaded / ev.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', STATUS_MESSAGES[0]));
    xhr.onload = () => {
      const res = new Response(xhr.status === 204 ? null : xhr.responseText, {
        status: xhr.status,
        headers: { 'Content-Type': xhr.getResponseHeader('Content-Type') ?? 'application/json' },
      });
      if (xhr.status === 401) onUnauthorized();
      if (!res.ok) {
        errorFromResponse(res).then(reject, reject);
        return;
      }
      res.json().then((j) => resolve(j as T), () => resolve(undefined as T));
    };
    xhr.send(form);
  });
}

export const api = {
  get: <T>(path: string, query?: RequestOptions['query'], opts: RequestOptions = {}) => request<T>(path, { ...opts, query }),
  post: <T>(path: string, body?: unknown, opts: RequestOptions = {}) => request<T>(path, { ...opts, method: 'POST', body }),
  put: <T>(path: string, body?: unknown, opts: RequestOptions = {}) => request<T>(path, { ...opts, method: 'PUT', body }),
  patch: <T>(path: string, body?: unknown, opts: RequestOptions = {}) => request<T>(path, { ...opts, method: 'PATCH', body }),
  del: <T>(path: string, opts: RequestOptions = {}) => request<T>(path, { ...opts, method: 'DELETE' }),
};
