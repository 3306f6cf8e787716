// The server-rendered admin pages under /chat/admin/, used from a browser
// after signing in through the login form: the users table with its
// enable/disable/role forms, and the audit log. Every value on them comes
// from users or requests and must arrive HTML-escaped.
// (That plain users get 403 here is in auth.test.mjs.)

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, request, sessionCookie } from '../lib/http.mjs';
import { sql, dbUser } from '../lib/db.mjs';
import { auditRows } from '../lib/audit.mjs';
import { assertHtml, assertJson, assertRequestId, assertStatus, locationPath } from '../lib/assert.mjs';
import { ORIGIN } from '../lib/env.mjs';
import { DEMO, createUser, uniq } from '../lib/users.mjs';

let adminCookie;

before(async () => {
  adminCookie = await sessionCookie('admin', 'admin');
});

after(async () => {
  await sql(`UPDATE users SET display_name = 'Demo User' WHERE username = 'demo'`);
});

/** GET an admin page as the signed-in administrator; returns its HTML. */
async function adminPage(path) {
  const res = await request('GET', path, { cookie: adminCookie });
  const html = assertHtml(res, 200);
  assertRequestId(res);
  return html;
}

/** POST an admin form the way the browser does from our own page. */
function postForm(path, form, { origin = ORIGIN, cookie = adminCookie } = {}) {
  return request('POST', path, { cookie, form, headers: { Origin: origin } });
}

test('the admin home page is HTML', async () => {
  await adminPage('/chat/admin/');
});

test('an admin page the database cannot serve answers 503 with Retry-After and says what failed', async () => {
  // The overview counts audit rows; httpd's role may not read them for one request.
  await sql('REVOKE SELECT ON audit_logs FROM aichat_app');
  let res;
  try {
    res = await request('GET', '/chat/admin/', { cookie: adminCookie });
  } finally {
    await sql('GRANT SELECT ON audit_logs TO aichat_app');
  }
  const html = assertHtml(res, 503);
  assert.match(res.headers.get('retry-after') ?? '', /^\d+$/, 'no Retry-After');
  assert.match(html, /<p class="error">The overview cannot be read now\.<\/p>/);
  await adminPage('/chat/admin/');
});

describe('users page', () => {
  test('searching shows the matching users and not the others', async () => {
    const tagA = `pangolin${uniq()}`;
    const tagB = `pangolin${uniq()}`;
    const a = await createUser({ prefix: 'pagea', displayName: `Page ${tagA}`, email: `${tagA}@example.org` });
    const b = await createUser({ prefix: 'pageb', displayName: `Page ${tagB}`, email: `${tagB}@example.org` });

    const html = await adminPage(`/chat/admin/users?q=${encodeURIComponent(tagA)}`);
    assert.ok(html.includes(a.user), `the page does not list ${a.user}`);
    assert.ok(html.includes(`Page ${tagA}`), 'the page does not show the display name');
    assert.ok(html.includes(`${tagA}@example.org`), 'the page does not show the email');
    assert.ok(!html.includes(b.user), `the page lists ${b.user}, who does not match`);
  });

  test('display names are HTML-escaped', async () => {
    const evil = '<script>alert(1)</script> x" onmouseover="alert(5)';
    const patched = assertJson(await api('PATCH', '/me', { ...DEMO, body: { display_name: evil } }), 200);
    assert.equal(patched.display_name, evil, 'the API must store the name as typed; escaping is for HTML output');
    try {
      const html = await adminPage('/chat/admin/users?q=demo');
      assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the escaped display name is not on the page');
      assert.ok(!html.includes('<script>alert(1)</script>'), 'the raw <script> tag is on the page');
      assert.ok(!html.includes('" onmouseover="alert(5)'), 'an unescaped double quote lets the name break out of an attribute');
    } finally {
      assertJson(await api('PATCH', '/me', { ...DEMO, body: { display_name: 'Demo User' } }), 200);
    }
  });

  test('the search text is HTML-escaped where the page shows it', async () => {
    const q = '"><script>alert(2)</script>';
    const html = await adminPage(`/chat/admin/users?q=${encodeURIComponent(q)}`);
    assert.ok(!html.includes('<script>alert(2)</script>'), 'the search text is on the page unescaped');
  });
});

describe('users page forms', () => {
  let target;

  before(async () => {
    target = await createUser({ prefix: 'form' });
  });

  async function act(form) {
    const res = await postForm(`/chat/admin/users/${target.id}`, form);
    assertStatus(res, 303);
    assert.match(locationPath(res), /^\/chat\/admin\/users\/?(\?.*)?$/, 'the form must lead back to the users list');
    return dbUser(target.user);
  }

  test('disable and enable', async () => {
    assert.equal((await act({ action: 'disable' })).is_active, false);
    assert.equal((await act({ action: 'enable' })).is_active, true);
  });

  test('make administrator and back', async () => {
    assert.equal((await act({ action: 'role', role: 'admin' })).role, 'admin');
    assert.equal((await act({ action: 'role', role: 'user' })).role, 'user');
  });

  test('a form posted from another site is refused and changes nothing', async () => {
    const stored = await dbUser(target.user);
    const res = await postForm(`/chat/admin/users/${target.id}`, { action: 'role', role: 'admin' }, { origin: 'http://evil.example' });
    assertStatus(res, 403);
    assert.deepEqual(await dbUser(target.user), stored);
  });
});

describe('audit page', () => {
  let actor;     // a fresh user whose requests the page is filtered on
  let first;     // URI of actor's older probe request
  let second;    // URI of actor's newer probe request
  let otherUri;  // a probe by demo, which must not show under actor
  const trap = '<img src=x onerror=alert(4)>';
  let uaTrap;

  before(async () => {
    actor = await createUser({ prefix: 'audited' });
    const hex = uniq();
    first = `/chat/api/v1/audit-probe-first-${hex}`;
    second = `/chat/api/v1/audit-probe-second-${hex}`;
    otherUri = `/chat/api/v1/audit-probe-other-${hex}`;
    uaTrap = `<b>ua-${hex}</b>`;

    // Each probe is an unknown API path (404), audited with its URI.
    const ids = [];
    for (const uri of [first, second]) {
      const res = await request('GET', uri, actor);
      assertStatus(res, 404);
      ids.push(res.requestId);
      await auditRows(res.requestId); // committed before the next one starts
    }
    const renamed = await api('PATCH', '/me', { ...actor, body: { display_name: `Audited ${hex}` } });
    assertJson(renamed, 200);
    const trapRes = await request('GET', `/chat/api/v1/${encodeURIComponent(trap)}`, {
      ...actor,
      headers: { 'User-Agent': uaTrap },
    });
    assertStatus(trapRes, 404);
    const other = await request('GET', otherUri, DEMO);
    assertStatus(other, 404);
    for (const id of [...ids, renamed.requestId, trapRes.requestId, other.requestId]) await auditRows(id);
  });

  function auditPage(query) {
    return adminPage(`/chat/admin/audit?${new URLSearchParams(query)}`);
  }

  test("filtered by user, it shows that user's requests, newest first", async () => {
    const html = await auditPage({ user: actor.user });
    const at1 = html.indexOf(first);
    const at2 = html.indexOf(second);
    assert.ok(at1 >= 0, `the older request ${first} is not on the page`);
    assert.ok(at2 >= 0, `the newer request ${second} is not on the page`);
    assert.ok(at2 < at1, 'the newer request must come first');
    assert.ok(!html.includes(otherUri), "another user's request is on the page");
  });

  test('filtered by action, it shows only those actions', async () => {
    const html = await auditPage({ user: actor.user, action: 'update' });
    assert.ok(html.includes('/chat/api/v1/me'), 'the PATCH /me update is not on the page');
    assert.ok(!html.includes(first) && !html.includes(second), 'plain requests are on a page filtered on updates');
  });

  test('filtered by entity, it shows only changes to that kind of entity', async () => {
    const html = await auditPage({ user: actor.user, entity: 'user' });
    assert.ok(html.includes('/chat/api/v1/me'), 'the PATCH /me update is not on the page');
    assert.ok(!html.includes(first) && !html.includes(second), 'requests without an entity are on the page');
  });

  test('filtered by date, it shows only rows in the range', async () => {
    const since = await auditPage({ user: actor.user, from: '2000-01-01' });
    assert.ok(since.includes(first) && since.includes(second), 'rows after "from" are missing');
    const until = await auditPage({ user: actor.user, to: '2000-01-01' });
    assert.ok(!until.includes(first) && !until.includes(second), 'rows after "to" are on the page');
  });

  test('request URIs, user agents and filter values are HTML-escaped', async () => {
    const html = await auditPage({ user: actor.user });
    assert.ok(!html.includes(trap), 'a raw tag from a request URI is on the page');
    assert.ok(!html.includes(uaTrap), 'a raw tag from a User-Agent is on the page');

    const reflected = await auditPage({ user: '<script>alert(6)</script>', action: '"><b>x</b>' });
    assert.ok(!reflected.includes('<script>alert(6)</script>'), 'the user filter is on the page unescaped');
    assert.ok(!reflected.includes('"><b>x</b>'), 'the action filter is on the page unescaped');
  });
});
