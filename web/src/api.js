// The API as the dashboard calls it: the session cookie is sent by the browser; mutating calls add
// the CSRF token that login returned (kept in sessionStorage so a reload keeps the session usable).
const CSRF_KEY = 'shipgate.csrf';

export class ApiError extends Error {
  constructor(status, message, hint) {
    super(message);
    this.status = status;
    this.hint = hint;
  }
}

async function call(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = sessionStorage.getItem(CSRF_KEY) ?? '';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  let json;
  try {
    json = await res.json();
  } catch {
    throw new ApiError(res.status, `${method} ${path}: HTTP ${res.status} without a JSON body`);
  }
  if (!res.ok || json.ok === false) throw new ApiError(res.status, json.error?.message ?? `HTTP ${res.status}`, json.error?.hint);
  return json;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body ?? {});

export async function login(token) {
  const r = await post('/api/login', { token });
  sessionStorage.setItem(CSRF_KEY, r.csrfToken);
  return r;
}

export async function logout() {
  await post('/api/logout').catch(() => undefined);
  sessionStorage.removeItem(CSRF_KEY);
}
