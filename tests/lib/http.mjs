// HTTP helpers: one request function for any path on the test server and a
// shorthand for the JSON API. Redirects are never followed unless asked, so
// tests see exactly what the server answered.

import { BASE_URL } from './env.mjs';

export const API_BASE = '/chat/api/v1';

let server = BASE_URL;

/** The base URL a request without a `base` of its own goes to (the test URL unless withServer says otherwise). */
export function currentServer() {
  return server;
}

/**
 * Run fn with every request that names no `base` sent to this base URL
 * instead of the test URL (one node of several: see nodes.mjs); returns
 * fn's result. Tests in a file run one after another, so this holds for
 * fn's requests only.
 */
export async function withServer(base, fn) {
  const saved = server;
  server = base;
  try {
    return await fn();
  } finally {
    server = saved;
  }
}

/**
 * Send one request to the test server.
 *
 * path: absolute path on the server, e.g. "/chat/admin/users?q=demo".
 * options:
 *   user, password  Basic credentials (sent only when `user` is given)
 *   cookie          a Cookie header value, e.g. the result of formLogin()
 *   body            any JSON value: sent as JSON with Content-Type application/json
 *   form            an object: sent as application/x-www-form-urlencoded
 *   raw             a string, Buffer/Uint8Array or ReadableStream sent as is
 *                   (no Content-Type unless `headers` sets one)
 *   headers         extra headers; they override the defaults above
 *   redirect        fetch's redirect mode, 'manual' by default
 *   base            another server's base URL (one node: see nodes.mjs);
 *                   currentServer() by default
 *
 * Returns { status, headers, text, json, requestId, setCookies, label }:
 * json is the parsed body or undefined when the body is not JSON;
 * label ("PATCH /chat/api/v1/me") is for assertion messages.
 */
export async function request(method, path, options = {}) {
  const { user, password, cookie, headers = {}, redirect = 'manual', base = server } = options;
  const sent = new Headers();
  const init = { method, headers: sent, redirect };

  if (user !== undefined) {
    const token = Buffer.from(`${user}:${password ?? ''}`, 'utf8').toString('base64');
    sent.set('Authorization', `Basic ${token}`);
  }
  if (cookie) sent.set('Cookie', cookie);

  if ('raw' in options) {
    // fetch labels a string body text/plain; bytes go out unlabelled.
    init.body = typeof options.raw === 'string' ? Buffer.from(options.raw, 'utf8') : options.raw;
    if (options.raw instanceof ReadableStream) init.duplex = 'half';
  } else if ('form' in options) {
    init.body = new URLSearchParams(options.form).toString();
    sent.set('Content-Type', 'application/x-www-form-urlencoded');
  } else if ('body' in options) {
    init.body = JSON.stringify(options.body);
    sent.set('Content-Type', 'application/json');
  }
  for (const [name, value] of Object.entries(headers)) sent.set(name, value);

  const res = await fetch(base + path, init);
  const text = await res.text();
  let json;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: res.status,
    headers: res.headers,
    text,
    json,
    requestId: res.headers.get('x-request-id'),
    setCookies: res.headers.getSetCookie(),
    label: base === BASE_URL ? `${method} ${path}` : `${method} ${base}${path}`,
  };
}

/** request() under the JSON API base: api('GET', '/me', { ...DEMO }). */
export function api(method, path, options = {}) {
  return request(method, API_BASE + path, options);
}

/**
 * The Cookie header value ("name=value; other=value") a browser would send
 * back after a response with these Set-Cookie headers, or '' when none.
 */
export function cookieFrom(setCookies) {
  return setCookies
    .map((line) => line.split(';')[0].trim())
    // A cleared cookie has an empty value; base64 values may end in '='.
    .filter((pair) => pair.indexOf('=') > 0 && pair.indexOf('=') < pair.length - 1)
    .join('; ');
}

/**
 * Sign in through the login form (mod_auth_form) like the login page does.
 * Returns { res, cookie }: the /chat/dologin response and the session cookie
 * to send back (may be '' when the login failed).
 */
export async function formLogin(username, password, location = '/chat/') {
  const res = await request('POST', '/chat/dologin', {
    form: { httpd_username: username, httpd_password: password, httpd_location: location },
  });
  return { res, cookie: cookieFrom(res.setCookies) };
}

/** A session cookie for a user whose sign-in must work; throws with details otherwise. */
export async function sessionCookie(username, password) {
  const { res, cookie } = await formLogin(username, password);
  if (![302, 303].includes(res.status) || cookie === '') {
    throw new Error(
      `form login as ${username} failed: status ${res.status}, ` +
        `Set-Cookie ${JSON.stringify(res.setCookies)}, body ${res.text.slice(0, 200)}`,
    );
  }
  return cookie;
}
