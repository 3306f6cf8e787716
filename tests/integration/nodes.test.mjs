// What a node keeps in memory — users for a second, share links for a
// second, the catalog until its version moves — is right on every other
// node within the staleness docs/architecture.md states ("Caches, and how
// stale each may be"): a change made through node A shows through node B
// within that bound. Under AICHAT_NODES=2 A and B are two httpd nodes, each
// with its own processes and memory; with one node they are the same httpd,
// where a change shows at once (the other files test that), so within the
// bound too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { api } from '../lib/http.mjs';
import { assertError, assertHtml, assertJson, assertStatus } from '../lib/assert.mjs';
import { ADMIN, createUser, uniq } from '../lib/users.mjs';
import { ChatFixture, say } from '../lib/chat.mjs';
import { publicPage, shareConv } from '../lib/share.mjs';
import { NODES } from '../lib/nodes.mjs';

const A = NODES[0];
const B = NODES.at(-1);

// docs/architecture.md: a user (role, enabled) and a share link changed on
// another node are seen within 1 s. The margin covers the requests' own time
// on a busy test machine.
const BOUND_MS = 1000;
const MARGIN_MS = 2000;

// Enough parallel requests to reach every process of a node, so that each
// remembers what they asked for (and each is asked after the change).
const PARALLEL = 24;

const fx = new ChatFixture('nodes');
let model;
let owner;

before(async () => {
  model = await fx.model({ provider: 'openai' });
  owner = await fx.user({ prefix: 'nodes_owner' });
});

after(async () => {
  await fx.cleanup();
});

/** The same request sent PARALLEL times at once to one node. */
function everywhere(node, send) {
  return Promise.all(Array.from({ length: PARALLEL }, () => send(node)));
}

/** The distinct statuses of responses, e.g. [200]. */
function statuses(responses) {
  return [...new Set(responses.map((res) => res.status))];
}

/**
 * Ask fn() until done(value) or BOUND_MS + MARGIN_MS have passed since
 * `since`; returns the last value, so the caller's assertion shows it.
 */
async function withinBound(since, fn, done) {
  for (;;) {
    const value = await fn();
    if (done(value) || Date.now() - since > BOUND_MS + MARGIN_MS) return value;
    await delay(100);
  }
}

const through = (node, extra = {}) => ({ base: node.url, ...extra });

test('a share revoked or made private through node A stops opening through node B within a second', async () => {
  const changes = [
    ['revoked', (conv) => api('DELETE', `/conversations/${conv.id}/share`, through(A, owner)), 204],
    ['made private', (conv) => api('PUT', `/conversations/${conv.id}/share`, through(A, { ...owner, body: { is_public: false } })), 200],
  ];
  for (const [what, change, status] of changes) {
    const conv = await fx.conversation(owner, [model], { title: `Nodes ${uniq(2)}` });
    await say(owner, conv.id, `hello ${uniq()}`);
    const share = await shareConv(owner, conv.id);
    const views = () => everywhere(B, (node) => publicPage(share.token, through(node)));
    for (const res of await views()) assertHtml(res, 200);

    assertStatus(await change(conv), status);
    const changed = Date.now();
    const later = await withinBound(changed, views, (list) => list.every((res) => res.status === 404));
    assert.deepEqual(statuses(later), [404], `a link ${what} through ${A.name} still opened through ${B.name} after ${Date.now() - changed} ms`);
  }
});

test('a user disabled through node A is refused through node B within a second, and let in again once enabled', async () => {
  const user = await createUser({ prefix: 'nodes_off' });
  const conversations = () => everywhere(B, (node) => api('GET', '/conversations', through(node, user)));
  assert.deepEqual(statuses(await conversations()), [200]);

  assertJson(await api('PATCH', `/admin/users/${user.id}`, through(A, { ...ADMIN, body: { is_active: false } })), 200);
  let changed = Date.now();
  const refused = await withinBound(changed, conversations, (list) => list.every((res) => res.status === 403));
  assert.deepEqual(statuses(refused), [403], `a user disabled through ${A.name} was still let in through ${B.name} after ${Date.now() - changed} ms`);
  for (const res of refused) assertError(res, 403, 'user_disabled');

  assertJson(await api('PATCH', `/admin/users/${user.id}`, through(A, { ...ADMIN, body: { is_active: true } })), 200);
  changed = Date.now();
  const back = await withinBound(changed, conversations, (list) => list.every((res) => res.status === 200));
  assert.deepEqual(statuses(back), [200], `a user enabled through ${A.name} was still refused through ${B.name} after ${Date.now() - changed} ms`);
});

test('an administrator made a plain user through node A loses the admin API through node B within a second, and gets it back', async () => {
  const boss = await createUser({ prefix: 'nodes_boss', role: 'admin' });
  const adminList = () => everywhere(B, (node) => api('GET', '/admin/users?limit=1', through(node, boss)));
  assert.deepEqual(statuses(await adminList()), [200]);

  assertJson(await api('PATCH', `/admin/users/${boss.id}`, through(A, { ...ADMIN, body: { role: 'user' } })), 200);
  let changed = Date.now();
  const refused = await withinBound(changed, adminList, (list) => list.every((res) => res.status === 403));
  assert.deepEqual(statuses(refused), [403], `an administrator demoted through ${A.name} still used the admin API through ${B.name} after ${Date.now() - changed} ms`);
  for (const res of refused) assertError(res, 403, 'forbidden');
  const me = assertJson(await api('GET', '/me', through(B, boss)), 200);
  assert.equal(me.role, 'user');

  assertJson(await api('PATCH', `/admin/users/${boss.id}`, through(A, { ...ADMIN, body: { role: 'admin' } })), 200);
  changed = Date.now();
  const back = await withinBound(changed, adminList, (list) => list.every((res) => res.status === 200));
  assert.deepEqual(statuses(back), [200], `a user promoted through ${A.name} was still refused the admin API through ${B.name} after ${Date.now() - changed} ms`);
});

test('a model changed through node A is in the catalog through node B on the very next request', async () => {
  const category = await fx.catalog.category({ name: `nodes${fx.tag}` });
  const tool = await fx.catalog.tool({ category_id: category.id });
  // category= is answered from each process's copy of the catalog.
  const listed = async () =>
    (await everywhere(B, (node) => api('GET', `/tools?category=${category.id}`, through(node, owner)))).map(
      (res) => assertJson(res, 200).items,
    );
  for (const items of await listed()) assert.deepEqual(items.map((t) => t.slug), [tool.slug]);

  const display = `Renamed ${uniq()}`;
  assertJson(await api('PATCH', `/admin/tools/${tool.slug}`, through(A, { ...ADMIN, body: { display_name: display } })), 200);
  for (const items of await listed()) assert.deepEqual(items.map((t) => t.display_name), [display]);

  assertJson(await api('PATCH', `/admin/tools/${tool.slug}`, through(A, { ...ADMIN, body: { is_active: false } })), 200);
  for (const items of await listed()) assert.deepEqual(items, [], `a model deactivated through ${A.name} is still listed through ${B.name}`);
});
