// One HTTP call to the control room API as a test makes it: a bearer token or a browser session
// (cookie and CSRF token), an optional JSON body; the answer's status, parsed JSON (undefined when
// the body is not JSON), raw text and headers.

export interface ApiCredentials {
  token?: string;
  cookie?: string;
  csrf?: string;
  body?: unknown;
}

export interface ApiAnswer {
  status: number;
  json: any;
  text: string;
  type: string | null;
  headers: Headers;
}

export async function apiCall(base: string, method: string, route: string, c: ApiCredentials = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  if (c.token) headers.authorization = `Bearer ${c.token}`;
  if (c.cookie) headers.cookie = c.cookie;
  if (c.csrf) headers['x-csrf-token'] = c.csrf;
  if (c.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${route}`, { method, headers, ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, type: res.headers.get('content-type'), headers: res.headers };
}
