// Favourite tools: PUT and DELETE /tools/{slug}/favorite are idempotent,
// favourites are per user, GET /me/favorites lists the newest first and
// GET /tools?favorites=true lists only mine.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { dbUser } from '../lib/db.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { DEMO, ADMIN, createUser, uniq } from '../lib/users.mjs';
import { Catalog, assertToolShape, favoriteRowCount, ids, listAllTools, listTools } from '../lib/catalog.mjs';

const catalog = new Catalog('catf');
const tag = catalog.tag;
let demoId;
let other; // a fresh user, so favourites of the seed users from other runs do not matter
let fa;
let fb;
let fc;

before(async () => {
  demoId = (await dbUser('demo')).id;
  other = await createUser({ prefix: 'catfav' });
  fa = await catalog.tool({ name: `fa${tag}` });
  fb = await catalog.tool({ name: `fb${tag}` });
  fc = await catalog.tool({ name: `fc${tag}` });
});

after(async () => {
  for (const tool of [fa, fb, fc]) {
    if (tool) await api('DELETE', `/tools/${tool.slug}/favorite`, DEMO);
  }
  await catalog.cleanup();
});

function favorite(method, slug, auth = DEMO) {
  return api(method, `/tools/${encodeURIComponent(slug)}/favorite`, auth);
}

async function myFavorites(auth = DEMO) {
  const res = await api('GET', '/me/favorites', auth);
  const body = assertJson(res, 200);
  assert.ok(Array.isArray(body.items), `items is not an array: ${res.text.slice(0, 300)}`);
  body.items.forEach((tool, i) => assertToolShape(tool, `GET /me/favorites item ${i}`));
  return body.items;
}

async function favoriteFlag(slug, auth = DEMO) {
  return assertJson(await api('GET', `/tools/${slug}`, auth), 200).favorite;
}

test('PUT favorite marks the tool as a favourite, and twice is the same as once', async () => {
  assert.deepEqual(assertJson(await favorite('PUT', fa.slug), 200), { favorite: true });
  assert.equal(await favoriteRowCount(demoId, fa.id), 1);
  assert.deepEqual(assertJson(await favorite('PUT', fa.slug), 200), { favorite: true });
  assert.equal(await favoriteRowCount(demoId, fa.id), 1, 'a second PUT added a second row');
  assert.equal(await favoriteFlag(fa.slug), true);
});

test('DELETE favorite removes it, and twice is the same as once', async () => {
  assertJson(await favorite('PUT', fb.slug), 200);
  assert.deepEqual(assertJson(await favorite('DELETE', fb.slug), 200), { favorite: false });
  assert.equal(await favoriteRowCount(demoId, fb.id), 0);
  assert.deepEqual(assertJson(await favorite('DELETE', fb.slug), 200), { favorite: false });
  assert.equal(await favoriteRowCount(demoId, fb.id), 0);
  assert.equal(await favoriteFlag(fb.slug), false);
});

test('favourites belong to the user who set them', async () => {
  assertJson(await favorite('PUT', fc.slug), 200);
  assert.equal(await favoriteFlag(fc.slug, DEMO), true);
  assert.equal(await favoriteFlag(fc.slug, ADMIN), false);
  assert.equal(await favoriteFlag(fc.slug, other), false);
  assert.ok(!ids(await myFavorites(other)).includes(fc.id), 'demo\'s favourite is in another user\'s list');
  const theirs = await listAllTools({ favorites: 'true', limit: 100 }, other);
  assert.deepEqual(theirs.items, [], 'a new user has no favourites');
  // Removing it for another user leaves demo's.
  assertJson(await favorite('DELETE', fc.slug, other), 200);
  assert.equal(await favoriteFlag(fc.slug, DEMO), true);
  assertJson(await favorite('DELETE', fc.slug), 200);
});

test('GET /me/favorites lists my favourites, the newest first', async () => {
  for (const tool of [fa, fb, fc]) await favorite('DELETE', tool.slug, other);
  assertJson(await favorite('PUT', fb.slug, other), 200);
  assertJson(await favorite('PUT', fa.slug, other), 200);
  assertJson(await favorite('PUT', fc.slug, other), 200);
  const items = await myFavorites(other);
  assert.deepEqual(ids(items), [fc.id, fa.id, fb.id]);
  assert.ok(items.every((t) => t.favorite === true), 'a tool in my favourites is not marked favorite');

  // Favouriting an existing favourite again does not move it or duplicate it.
  assertJson(await favorite('PUT', fb.slug, other), 200);
  assert.deepEqual(ids(await myFavorites(other)), [fc.id, fa.id, fb.id]);

  assertJson(await favorite('DELETE', fa.slug, other), 200);
  assert.deepEqual(ids(await myFavorites(other)), [fc.id, fb.id]);
});

test('GET /tools?favorites=true lists only my favourites', async () => {
  for (const tool of [fa, fb, fc]) await favorite('DELETE', tool.slug, other);
  assertJson(await favorite('PUT', fa.slug, other), 200);
  assertJson(await favorite('PUT', fc.slug, other), 200);

  const { items } = await listAllTools({ favorites: 'true', limit: 100 }, other);
  assert.deepEqual(ids(items).sort(), [fa.id, fc.id].sort());
  assert.ok(items.every((t) => t.favorite === true));

  const withQ = await listTools({ favorites: 'true', q: `fc${tag}` }, other);
  assert.deepEqual(ids(withQ.items), [fc.id], 'favorites=true combines with q');

  // Without the filter, the same tools are listed with their favourite flag.
  const all = await listTools({ q: tag }, other);
  const flags = Object.fromEntries(all.items.map((t) => [t.id, t.favorite]));
  assert.deepEqual(flags, { [fa.id]: true, [fb.id]: false, [fc.id]: true });
});

test('favourites of an unknown tool are 404', async () => {
  const slug = `no-such-tool-${uniq()}`;
  assertError(await favorite('PUT', slug), 404, 'not_found');
  assertError(await favorite('DELETE', slug), 404, 'not_found');
});

test('favourites need a signed-in user', async () => {
  assertError(await api('PUT', `/tools/${fa.slug}/favorite`), 401, 'unauthenticated');
  assertError(await api('GET', '/me/favorites'), 401, 'unauthenticated');
  assert.equal(await favoriteFlag(fa.slug, DEMO), true, 'an anonymous request changed demo\'s favourite');
});

test('favouriting from another site is refused', async () => {
  const res = await api('PUT', `/tools/${fb.slug}/favorite`, { ...DEMO, headers: { Origin: 'http://evil.example' } });
  assertError(res, 403, 'csrf_rejected');
  assert.equal(await favoriteRowCount(demoId, fb.id), 0);
});
