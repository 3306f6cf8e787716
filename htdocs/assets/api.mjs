// The one door to the JSON API (/chat/api/v1/).
//
// - JSON in and out, same-origin credentials (the session cookie or whatever
//   Apache authentication the site uses).
// - Every non-2xx answer becomes an ApiError carrying the HTTP status and the
//   error envelope's code, message and (optional) field.
// - 401 sends the browser to the sign-in page.
// - 503 (database unavailable), and network failures of reads, are retried
//   with a capped backoff until an answer comes or the caller's AbortSignal
//   fires; meanwhile `apiStatus` emits "unavailable", and "available" once a
//   request goes through again, so the shell can show a non-blocking banner.
//   Nothing here touches the DOM.
//
// URLs are resolved relative to this file (…/assets/api.mjs), so the UI keeps
// working if the site mounts it somewhere other than /chat/.

export const API_BASE = new URL('../api/v1/', import.meta.url);
export const LOGIN_URL = new URL('../login.html', import.meta.url);

/** Fired on `apiStatus`: "unavailable" (retrying) and "available" (recovered). */
export const apiStatus = new EventTarget();

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 10000;

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 for a network failure)
   * @param {string} code   stable machine code from the error envelope
   * @param {string} message human-readable message from the server
   * @param {string|undefined} field the input field the error is about
   */
  constructor(status, code, message, field) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

let unavailable = false;

function setUnavailable(value) {
  if (unavailable === value) return;
  unavailable = value;
  apiStatus.dispatchEvent(new Event(value ? 'unavailable' : 'available'));
}

/** True while requests are being retried because the service is down. */
export function isUnavailable() {
  return unavailable;
}

/** Leave the app for the sign-in page, keeping the in-app route (#/…). */
export function redirectToLogin() {
  const target = new URL(LOGIN_URL);
  if (location.hash.startsWith('#/')) target.hash = location.hash;
  location.assign(target.href);
}

function delay(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function isJson(response) {
  const type = response.headers.get('Content-Type') || '';
  return /^application\/([\w.+-]*\+)?json\b/i.test(type);
}

async function toApiError(response) {
  let code = `http_${response.status}`;
  let message = response.statusText || `Request failed (HTTP ${response.status})`;
  let field;
  if (isJson(response)) {
    try {
      const body = await response.json();
      const err = body && typeof body === 'object' ? body.error : null;
      if (err && typeof err === 'object') {
        if (typeof err.code === 'string') code = err.code;
        if (typeof err.message === 'string') message = err.message;
        if (typeof err.field === 'string') field = err.field;
      }
    } catch {
      /* a broken error body keeps the generic message */
    }
  }
  return new ApiError(response.status, code, message, field);
}

/** The sign-in page answered instead of the API: the session is gone. */
function landedOnLogin(response) {
  return response.redirected && new URL(response.url).pathname === LOGIN_URL.pathname;
}

/**
 * Call the API.
 *
 * @param {string} path  relative to /chat/api/v1/, e.g. "me" or "conversations?limit=20"
 * @param {object} [options]
 * @param {string} [options.method="GET"]
 * @param {*} [options.body]        serialised as JSON when given
 * @param {AbortSignal} [options.signal]
 * @param {boolean} [options.retry=true] retry on 503 (and, for GET/HEAD, on network failure)
 * @returns {Promise<*>} the parsed JSON body, or null for an empty answer
 * @throws {ApiError} for any error answer (and a DOMException when aborted)
 */
export async function api(path, { method = 'GET', body, signal, retry = true } = {}) {
  const url = new URL(path.replace(/^\/+/, ''), API_BASE);
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', signal, cache: 'no-store' };
  if (body !== undefined) {
    // application/json is not a "simple" content type: the browser will not
    // send it cross-site without CORS, which is the API's CSRF guard.
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  // A 503 means the request was not carried out (no database connection), so
  // it is retried whatever the method. A network failure may have happened
  // after the server acted, so only reads are retried then.
  const retryNetwork = retry && (method === 'GET' || method === 'HEAD');
  let wait = RETRY_FIRST_MS;
  for (;;) {
    let response = null;
    try {
      response = await fetch(url, init);
    } catch (err) {
      if (signal?.aborted) throw err;
      if (!retryNetwork) throw new ApiError(0, 'network', 'Could not reach the server.');
    }

    if (response && response.status !== 503) {
      setUnavailable(false);
      if (response.status === 401 || landedOnLogin(response)) {
        redirectToLogin();
        throw new ApiError(401, 'unauthenticated', 'Not signed in');
      }
      if (!response.ok) throw await toApiError(response);
      if (response.status === 204) return null;
      const text = await response.text();
      if (text === '') return null;
      if (!isJson(response)) {
        throw new ApiError(response.status, 'bad_response', 'The server sent an unexpected answer.');
      }
      try {
        return JSON.parse(text);
      } catch {
        throw new ApiError(response.status, 'bad_response', 'The server sent an unexpected answer.');
      }
    }

    if (response && !retry) throw await toApiError(response);
    setUnavailable(true);
    await delay(wait, signal);
    wait = Math.min(wait * 2, RETRY_MAX_MS);
  }
}

/** GET shorthand. */
export function get(path, options = {}) {
  return api(path, { ...options, method: 'GET' });
}

/**
 * Every item of a keyset-paginated list (GET path, which holds its own
 * `limit`), following each page's `next` cursor; at most `max` items.
 */
export async function getAll(path, { signal, max = 1000 } = {}) {
  const items = [];
  let after = null;
  do {
    const page = after === null ? path : `${path}${path.includes('?') ? '&' : '?'}after=${encodeURIComponent(after)}`;
    const body = await get(page, { signal });
    if (Array.isArray(body?.items)) items.push(...body.items);
    after = typeof body?.next === 'string' && body.next !== '' ? body.next : null;
  } while (after !== null && items.length < max);
  return items.slice(0, max);
}

/** PATCH shorthand. */
export function patch(path, body, options = {}) {
  return api(path, { ...options, method: 'PATCH', body });
}

/** POST shorthand. */
export function post(path, body, options = {}) {
  return api(path, { ...options, method: 'POST', body });
}

/** DELETE shorthand. */
export function del(path, options = {}) {
  return api(path, { ...options, method: 'DELETE' });
}

/**
 * POST a JSON body and take the answer as a file (a ZIP, say): its Blob, or
 * an ApiError for an error answer. Not retried: the server may have acted.
 */
export async function postForBlob(path, body, { signal } = {}) {
  const response = await fetch(new URL(path.replace(/^\/+/, ''), API_BASE), {
    method: 'POST',
    credentials: 'same-origin',
    signal,
    cache: 'no-store',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status === 401 || landedOnLogin(response)) {
    redirectToLogin();
    throw new ApiError(401, 'unauthenticated', 'Not signed in');
  }
  if (!response.ok) throw await toApiError(response);
  return response.blob();
}

/** True for the error thrown when a request's AbortSignal fired. */
export function isAbort(err) {
  return err?.name === 'AbortError';
}
