// The API client: every call goes to /api/v1 with the session cookie
// (HttpOnly, set at login) and, on changes, the CSRF token the session
// carries. Errors become ApiError with the server's message, which names
// what was wrong.

const BASE = '/api/v1';
let csrf = '';
let onUnauthorized = () => {};

// ApiError is a refused or failed call: status is the HTTP status (0 when
// the engine did not answer), message the server's explanation.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// setCSRF keeps the CSRF token of the session (from login or /me).
export function setCSRF(token) {
  csrf = token || '';
}

// setUnauthorizedHandler sets what happens when a call answers 401 (the
// session ended): the layout goes back to the sign-in page.
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

// url builds an API URL with query parameters (empty ones left out).
export function url(path, params) {
  const u = new URL(BASE + path, location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    u.searchParams.set(k, v instanceof Date ? v.toISOString() : String(v));
  }
  return u.pathname + u.search;
}

async function call(method, path, { params, body, raw } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(url(path, params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(0, e.message || 'network error');
  }
  if (res.status === 401 && path !== '/login') onUnauthorized();
  if (!res.ok) {
    let message = res.statusText;
    try {
      const j = await res.json();
      if (j && j.error) message = j.error;
    } catch {
      /* not JSON: keep the status text */
    }
    throw new ApiError(res.status, message);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? res.json() : res.text();
}

export const get = (path, params) => call('GET', path, { params });
export const getRaw = (path, params) => call('GET', path, { params, raw: true });
export const post = (path, body, params) => call('POST', path, { body: body ?? {}, params });
export const put = (path, body) => call('PUT', path, { body });
export const del = (path) => call('DELETE', path);

// stream opens the live event stream (server-sent events) and calls
// onEvent(event) for each event; onState('open'|'error') on changes. It
// returns the close function. EventSource reconnects by itself.
export function stream(params, onEvent, onState = () => {}) {
  const es = new EventSource(url('/events/stream', params), { withCredentials: true });
  es.onopen = () => onState('open');
  es.onerror = () => onState('error');
  es.onmessage = (m) => deliver(m);
  // Events carry their type as the SSE event name (sink.Type*): listen to
  // every name.
  const types = ['detection.summary', 'violation.red_light', 'violation.wrong_way', 'violation.illegal_parking',
    'violation.restricted_lane', 'violation.no_helmet', 'alert.smoke', 'alert.fire', 'alert.crowd', 'traffic.count',
    'camera.offline', 'camera.online', 'camera.degraded', 'camera.frozen', 'camera.tampered', 'recording.gap',
    'recording.incident', 'recording.resolved'];
  function deliver(m) {
    try {
      onEvent(JSON.parse(m.data));
    } catch {
      /* a malformed line is skipped */
    }
  }
  for (const ty of types) es.addEventListener(ty, deliver);
  return () => es.close();
}
