// Cross-site request refusal. Browsers resend Basic credentials and session
// cookies on their own, so a state-changing request coming from another
// site's page must be refused before it changes anything; requests from our
// own pages and from non-browser clients (no Origin, no Referer) pass.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { api, sessionCookie } from '../lib/http.mjs';
import { sql, dbUser } from '../lib/db.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { ORIGIN, BASE_URL } from '../lib/env.mjs';
import { DEMO, ADMIN, createUser, uniq } from '../lib/users.mjs';

const EVIL = 'http://evil.example';

after(async () => {
  await sql(`UPDATE users SET display_name = 'Demo User' WHERE username = 'demo'`);
});

/** PATCH /me as demo renaming to a fresh name, with these extra headers. */
async function rename(headers, auth = DEMO) {
  const name = `CSRF ${uniq()}`;
  const res = await api('PATCH', '/me', { ...auth, body: { display_name: name }, headers });
  return { res, name };
}

async function assertRefused(headers, auth = DEMO) {
  const stored = await dbUser('demo');
  const { res } = await rename(headers, auth);
  assertError(res, 403, 'csrf_rejected');
  assert.deepEqual(await dbUser('demo'), stored, 'a refused request changed the user');
}

async function assertAllowed(headers, auth = DEMO) {
  const { res, name } = await rename(headers, auth);
  assert.equal(assertJson(res, 200).display_name, name);
  assert.equal((await dbUser('demo')).display_name, name);
}

test('a PATCH from another site (Origin) is refused', async () => {
  await assertRefused({ Origin: EVIL });
});

test('a PATCH with Origin: null (sandboxed frame, file:) is refused', async () => {
  await assertRefused({ Origin: 'null' });
});

test('a PATCH without Origin but with a Referer from another site is refused', async () => {
  await assertRefused({ Referer: `${EVIL}/page` });
});

test('origins that merely resemble ours are refused', async () => {
  const ours = new URL(ORIGIN);
  await assertRefused({ Origin: `${ours.protocol}//${ours.hostname}:1` }); // same host, other port
  await assertRefused({ Origin: `${ORIGIN}.evil.example` }); // ours as a prefix
  await assertRefused({ Referer: `${EVIL}/${ORIGIN}/chat/` }); // ours inside the path
});

test('a PATCH from our own origin is allowed', async () => {
  await assertAllowed({ Origin: ORIGIN });
});

test('a PATCH with only a Referer from our own pages is allowed', async () => {
  await assertAllowed({ Referer: `${BASE_URL}/chat/` });
});

test('a PATCH with neither Origin nor Referer (curl, SDKs) is allowed', async () => {
  await assertAllowed({});
});

test('a GET is never refused, whatever its Origin', async () => {
  const res = await api('GET', '/me', { ...DEMO, headers: { Origin: EVIL, Referer: `${EVIL}/page` } });
  assert.equal(assertJson(res, 200).username, 'demo');
});

test('a cross-site PATCH authenticated by the session cookie is refused', async () => {
  const cookie = await sessionCookie('demo', 'demo');
  await assertRefused({ Origin: EVIL }, { cookie });
  await assertAllowed({ Origin: ORIGIN }, { cookie });
});

test('a cross-site admin change is refused and the user keeps their role', async () => {
  const target = await createUser({ prefix: 'csrf' });
  const res = await api('PATCH', `/admin/users/${target.id}`, {
    ...ADMIN,
    body: { role: 'admin' },
    headers: { Origin: EVIL },
  });
  assertError(res, 403, 'csrf_rejected');
  assert.equal((await dbUser(target.user)).role, 'user');
});

/** PATCH /me as demo, renaming, with a Host header of our choice (fetch cannot set one). */
function renameWithHost(host, origin) {
  const url = new URL(BASE_URL);
  const body = JSON.stringify({ display_name: `CSRF ${uniq()}` });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: 'PATCH',
        path: '/chat/api/v1/me',
        auth: `${DEMO.user}:${DEMO.password}`,
        headers: { Host: host, Origin: origin, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, text, json: JSON.parse(text || 'null') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// The test server runs with AIChatPublicURL set (to ORIGIN): that URL alone
// names the site. A Host header is the client's to choose, so an Origin that
// matches only a spoofed Host is another site.
test('with a public URL, an Origin matching a spoofed Host is refused', async () => {
  const stored = await dbUser('demo');
  const res = await renameWithHost('evil.example', 'http://evil.example');
  assert.equal(res.status, 403, res.text);
  assert.equal(res.json?.error?.code, 'csrf_rejected');
  assert.deepEqual(await dbUser('demo'), stored, 'a refused request changed the user');
});

test('with a public URL, its origin is accepted whatever the Host', async () => {
  const res = await renameWithHost('evil.example', ORIGIN);
  assert.equal(res.status, 200, res.text);
});
