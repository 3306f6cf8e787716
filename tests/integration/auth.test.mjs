// Who may do what: Apache authenticates (Basic against the database and an
// htpasswd file, or the login form), the module provisions users it has not
// seen, refuses disabled users and lets only administrators into admin
// routes. A test that changes an account and uses it at once runs on one
// node (onOneNode): a change shows at once in every process of the httpd
// that made it, and on other nodes within a second (nodes.test.mjs).

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { api, request, formLogin, sessionCookie } from '../lib/http.mjs';
import { sql, sqlValue, dbUser } from '../lib/db.mjs';
import { assertError, assertHtml, assertJson, assertRequestId, assertStatus, assertUserShape, locationPath } from '../lib/assert.mjs';
import { DEFAULT_CREDITS, ORIGIN } from '../lib/env.mjs';
import { DEMO, ADMIN, EXTUSER, createUser } from '../lib/users.mjs';
import { onOneNode } from '../lib/nodes.mjs';

describe('Basic authentication', () => {
  test('no credentials: 401 unauthenticated', async () => {
    const res = await api('GET', '/me');
    assertError(res, 401, 'unauthenticated');
  });

  test('a wrong password: 401 unauthenticated', async () => {
    assertError(await api('GET', '/me', { user: 'demo', password: 'not-the-password' }), 401, 'unauthenticated');
  });

  // A burst with one user's credentials, as a new server process sees it: one
  // thread checks the password while the others wait for its answer (the
  // aichat-cache provider), and each of them gets that answer.
  test('a burst of requests with the same new credentials: every one answered alike', async () => {
    const user = await createUser({ prefix: 'burst' });
    const good = await Promise.all(Array.from({ length: 24 }, () => api('GET', '/me', user)));
    for (const res of good) assert.equal(assertJson(res, 200).username, user.user);
    const bad = await Promise.all(Array.from({ length: 12 }, () =>
      api('GET', '/me', { user: user.user, password: 'not-the-password' })));
    for (const res of bad) assertError(res, 401, 'unauthenticated');
  });

  test('an unknown user: 401 unauthenticated, and no user is created', async () => {
    const res = await api('GET', '/me', { user: 'nobody-at-all', password: 'whatever' });
    assertError(res, 401, 'unauthenticated');
    assert.equal(await dbUser('nobody-at-all'), undefined);
  });
});

describe('form login', () => {
  test('/chat/ without a session redirects to the login page', async () => {
    const res = await request('GET', '/chat/');
    assertStatus(res, 302);
    assert.match(locationPath(res), /^\/chat\/login\.html(\?.*)?$/);
  });

  test('the login page itself needs no session', async () => {
    assertHtml(await request('GET', '/chat/login.html'), 200);
  });

  test('signing in redirects to /chat/ with a session cookie that authenticates the API', async () => {
    const { res, cookie } = await formLogin('demo', 'demo');
    assert.ok([302, 303].includes(res.status), `POST /chat/dologin answered ${res.status}: ${res.text.slice(0, 200)}`);
    assert.match(locationPath(res), /\/chat\/$/);
    assert.notEqual(cookie, '', `no session cookie in ${JSON.stringify(res.setCookies)}`);

    const me = assertJson(await api('GET', '/me', { cookie }), 200);
    assert.equal(me.username, 'demo');

    const page = await request('GET', '/chat/', { cookie });
    assertStatus(page, 200);
  });

  test('a wrong password gives no session', async () => {
    const { res, cookie } = await formLogin('demo', 'not-the-password');
    if ([302, 303].includes(res.status)) {
      assert.doesNotMatch(locationPath(res), /\/chat\/$/, 'a wrong password was sent on to /chat/');
    }
    assertError(await api('GET', '/me', { cookie }), 401, 'unauthenticated');
    const page = await request('GET', '/chat/', { cookie });
    assertStatus(page, 302);
    assert.match(locationPath(page), /^\/chat\/login\.html(\?.*)?$/);
  });

  // mod_auth_form follows a posted httpd_location anywhere, with a fresh
  // session cookie: only paths of this site are followed, anything else
  // goes to the start page. A browser resolves Location against the page,
  // so the test does too.
  const FOREIGN = [
    'https://evil.example/phish',
    'HTTP://evil.example/',
    '//evil.example/phish',
    '/\\evil.example/phish',
    '\\\\evil.example/phish',
    '/\t/evil.example/',
    'javascript:alert(1)',
    'evil.example',
  ];

  for (const location of FOREIGN) {
    test(`signing in with httpd_location ${JSON.stringify(location)} stays on the site`, async () => {
      const { res, cookie } = await formLogin('demo', 'demo', location);
      assert.ok([301, 302, 303].includes(res.status), `${res.label} answered ${res.status}`);
      const to = new URL(res.headers.get('location'), `${ORIGIN}/chat/dologin`);
      assert.equal(to.origin, ORIGIN, `sent to ${res.headers.get('location')}`);
      assert.equal(to.pathname, '/chat/');
      assert.ok(!res.text.includes('evil.example'), `the answer names the other site: ${res.text}`);
      assert.notEqual(cookie, '', 'no session cookie');
    });
  }

  test('a form posted to a guarded page with a foreign httpd_location stays on the site', async () => {
    const res = await request('POST', '/chat/index.html', {
      form: { httpd_username: 'demo', httpd_password: 'demo', httpd_location: '//evil.example/' },
    });
    const to = new URL(res.headers.get('location') ?? '/', `${ORIGIN}/chat/index.html`);
    assert.equal(to.origin, ORIGIN, `sent to ${res.headers.get('location')}`);
  });

  test('percent-encoded locations are paths of this site and are followed', async () => {
    for (const location of ['/%2F%2Fevil.example/', '/%5Cevil.example/', '/chat/?next=https://evil.example']) {
      const { res } = await formLogin('demo', 'demo', location);
      const to = new URL(res.headers.get('location'), `${ORIGIN}/chat/dologin`);
      assert.equal(to.origin, ORIGIN, `${location} sent to ${res.headers.get('location')}`);
      assert.equal(to.pathname + to.search, location);
    }
  });

  test('a path of this site is followed', async () => {
    const { res } = await formLogin('demo', 'demo', '/chat/#/catalog');
    assert.equal(res.headers.get('location'), '/chat/#/catalog');
  });
});

describe('provisioning', () => {
  test('a user known only to Apache gets a users row on the first request', async (t) => {
    const existed = (await dbUser(EXTUSER.user)) !== undefined;

    // Like a browser opening the app: several API calls at once, all first.
    const responses = await Promise.all([1, 2, 3, 4].map(() => api('GET', '/me', EXTUSER)));
    const bodies = responses.map((res) => assertJson(res, 200));
    for (const me of bodies) assertUserShape(me, '/me');
    assert.equal(new Set(bodies.map((me) => me.id)).size, 1, 'concurrent first requests saw different users');

    const me = bodies[0];
    assert.equal(me.username, 'extuser');
    assert.equal(me.role, 'user');
    assert.equal(me.is_active, true);
    const count = await sqlValue(`SELECT count(*) FROM users WHERE username = :'p1'`, EXTUSER.user);
    assert.equal(count, '1', 'provisioning must create exactly one users row');
    assert.equal((await dbUser(EXTUSER.user)).id, me.id);

    if (existed) {
      t.diagnostic('extuser was provisioned before this test (database reused): default credits not checked');
      return;
    }
    assert.equal(me.token_credits, DEFAULT_CREDITS, 'a new user gets the configured default credits');
    assert.equal((await dbUser(EXTUSER.user)).token_credits, DEFAULT_CREDITS);
  });

  test('later requests use the same row', async () => {
    const first = assertJson(await api('GET', '/me', EXTUSER), 200);
    const second = assertJson(await api('GET', '/me', EXTUSER), 200);
    assert.equal(second.id, first.id);
    assert.equal(await sqlValue(`SELECT count(*) FROM users WHERE username = :'p1'`, EXTUSER.user), '1');
  });
});

describe('disabled users', () => {
  test('a disabled user is refused on every API call until re-enabled', () => onOneNode(async () => {
    const user = await createUser({ prefix: 'disabled' });
    assertJson(await api('GET', '/me', user), 200);

    const disabled = assertJson(await api('PATCH', `/admin/users/${user.id}`, { ...ADMIN, body: { is_active: false } }), 200);
    assert.equal(disabled.is_active, false);

    assertError(await api('GET', '/me', user), 403, 'user_disabled');
    assertError(await api('PATCH', '/me', { ...user, body: { display_name: 'Still Here' } }), 403, 'user_disabled');
    assertError(await api('GET', '/no-such-endpoint', user), 403, 'user_disabled');
    assert.notEqual((await dbUser(user.user)).display_name, 'Still Here');

    const enabled = assertJson(await api('PATCH', `/admin/users/${user.id}`, { ...ADMIN, body: { is_active: true } }), 200);
    assert.equal(enabled.is_active, true);
    assert.equal(assertJson(await api('GET', '/me', user), 200).username, user.user);
  }));

  test('a disabled administrator loses the admin API too', () => onOneNode(async () => {
    const boss = await createUser({ prefix: 'disadmin', role: 'admin' });
    assertJson(await api('GET', '/admin/users', boss), 200);
    assertJson(await api('PATCH', `/admin/users/${boss.id}`, { ...ADMIN, body: { is_active: false } }), 200);
    assertError(await api('GET', '/admin/users', boss), 403, 'user_disabled');
    assertJson(await api('PATCH', `/admin/users/${boss.id}`, { ...ADMIN, body: { is_active: true } }), 200);
  }));
});

describe('users the server remembers', () => {
  // Each httpd process remembers the users it looked up in the last second.
  // Enough parallel requests reach every process, so each remembers the user.
  const everywhere = async (user, path) => Promise.all(Array.from({ length: 24 }, () => api('GET', path, user)));
  const statuses = (responses) => [...new Set(responses.map((res) => res.status))].join(',');

  test('an account changed through the admin API applies at once in every process', () => onOneNode(async () => {
    const user = await createUser({ prefix: 'remembered' });
    assert.equal(statuses(await everywhere(user, '/conversations')), '200');

    assertJson(await api('PATCH', `/admin/users/${user.id}`, { ...ADMIN, body: { is_active: false } }), 200);
    for (const res of await everywhere(user, '/conversations')) assertError(res, 403, 'user_disabled');

    assertJson(await api('PATCH', `/admin/users/${user.id}`, { ...ADMIN, body: { is_active: true } }), 200);
    assert.equal(statuses(await everywhere(user, '/conversations')), '200');

    const boss = await createUser({ prefix: 'remembered_admin', role: 'admin' });
    assert.equal(statuses(await everywhere(boss, '/admin/users')), '200');
    assertJson(await api('PATCH', `/admin/users/${boss.id}`, { ...ADMIN, body: { role: 'user' } }), 200);
    for (const res of await everywhere(boss, '/admin/users')) assertError(res, 403, 'forbidden');
  }));

  test('an account changed outside the server applies within seconds', async () => {
    const user = await createUser({ prefix: 'remembered_sql' });
    assert.equal(statuses(await everywhere(user, '/conversations')), '200');
    await sql(`UPDATE users SET is_active = false WHERE id = :'p1'`, user.id);
    let seen = '';
    for (let i = 0; i < 50 && seen !== '403'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      seen = statuses(await everywhere(user, '/conversations'));
    }
    assert.equal(seen, '403', 'a user disabled in the database was still let in after 5 s');
  });
});

describe('admin authorization', () => {
  test('a plain user gets 403 forbidden from the admin API', async () => {
    assertError(await api('GET', '/admin/users', DEMO), 403, 'forbidden');
    assertError(await api('GET', '/admin/users?q=demo', DEMO), 403, 'forbidden');
  });

  test('a plain user cannot make themselves an administrator', async () => {
    const demo = await dbUser('demo');
    const res = await api('PATCH', `/admin/users/${demo.id}`, { ...DEMO, body: { role: 'admin' } });
    assertError(res, 403, 'forbidden');
    assert.equal((await dbUser('demo')).role, 'user');
  });

  test('without credentials the admin API is 401', async () => {
    assertError(await api('GET', '/admin/users'), 401, 'unauthenticated');
  });

  test('an administrator may use the admin API', async () => {
    assertJson(await api('GET', '/admin/users', ADMIN), 200);
  });

  test('a plain user gets 403 from every admin page', async () => {
    const cookie = await sessionCookie('demo', 'demo');
    for (const path of ['/chat/admin/', '/chat/admin/users', '/chat/admin/users?q=demo', '/chat/admin/audit']) {
      const res = await request('GET', path, { cookie });
      assertStatus(res, 403);
      assertRequestId(res);
    }
  });

  test('a plain user cannot post the admin forms', async () => {
    const cookie = await sessionCookie('demo', 'demo');
    const demo = await dbUser('demo');
    const res = await request('POST', `/chat/admin/users/${demo.id}`, {
      cookie,
      form: { action: 'role', role: 'admin' },
      headers: { Origin: ORIGIN },
    });
    assertStatus(res, 403);
    assert.equal((await dbUser('demo')).role, 'user');

    const target = await createUser({ prefix: 'formtarget' });
    const res2 = await request('POST', `/chat/admin/users/${target.id}`, {
      cookie,
      form: { action: 'disable' },
      headers: { Origin: ORIGIN },
    });
    assertStatus(res2, 403);
    assert.equal((await dbUser(target.user)).is_active, true);
  });

  test('an administrator may open every admin page', async () => {
    const cookie = await sessionCookie('admin', 'admin');
    for (const path of ['/chat/admin/', '/chat/admin/users', '/chat/admin/audit']) {
      assertHtml(await request('GET', path, { cookie }), 200);
    }
  });

  test('the role is read on each request: promoting and demoting take effect at once', () => onOneNode(async () => {
    const user = await createUser({ prefix: 'promote' });
    assertError(await api('GET', '/admin/users', user), 403, 'forbidden');

    assertJson(await api('PATCH', `/admin/users/${user.id}`, { ...ADMIN, body: { role: 'admin' } }), 200);
    assertJson(await api('GET', '/admin/users', user), 200);

    assertJson(await api('PATCH', `/admin/users/${user.id}`, { ...ADMIN, body: { role: 'user' } }), 200);
    assertError(await api('GET', '/admin/users', user), 403, 'forbidden');
  }));
});
