// Browsing the catalog as a user: categories with their tool counts, the
// tool list with its filters (category, provider, q) and sort orders, one
// tool by slug, and the 422s for query parameters the API cannot use.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from '../lib/http.mjs';
import { sqlJson } from '../lib/db.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { DEMO, ADMIN, uniq } from '../lib/users.mjs';
import {
  Catalog, assertSorted, assertToolShape, ids, listAllTools, listCategories, listTools, setPopularity,
} from '../lib/catalog.mjs';

const catalog = new Catalog('catb');
const tag = catalog.tag;
// Markers that occur in exactly one field of exactly one tool.
const marks = { name: `mn${uniq()}`, display: `md${uniq()}`, slug: `ms${uniq()}`, description: `me${uniq()}` };

let catA;
let catB;
let t1; // openai, A, popularity 5, display name has marks.display
let t2; // anthropic, A, popularity 9, description has marks.description
let t3; // google, B, popularity 5, slug has marks.slug
let t4; // openai, no category, popularity 0, name has marks.name
let t5; // anthropic, A, inactive

before(async () => {
  // Lower-case letters and digits only, so every collation orders them alike.
  catA = await catalog.category({ name: `cat${tag}a`, description: 'First test category', icon: 'sparkles' });
  catB = await catalog.category({ name: `cat${tag}b` });
  t1 = await catalog.tool({
    name: `ka${tag}`,
    display_name: `Tool One ${marks.display}`,
    provider: 'openai',
    model_id: 'gpt-test-1',
    category_id: catA.id,
    description: 'The first tool',
    avatar: '/chat/img/one.png',
    api_key_required: true,
    capabilities: { streaming: true, vision: false },
    default_settings: { temperature: 0.5 },
  });
  t2 = await catalog.tool({
    name: `kb${tag}`,
    provider: 'anthropic',
    model_id: 'claude-test',
    category_id: catA.id,
    description: `Mentions ${marks.description} in passing`,
  });
  t3 = await catalog.tool({
    slug: catalog.slug(marks.slug),
    name: `kc${tag}`,
    provider: 'google',
    model_id: 'gemini-test',
    category_id: catB.id,
  });
  t4 = await catalog.tool({ name: `kd${tag}${marks.name}`, provider: 'openai', model_id: 'gpt-test-4' });
  t5 = await catalog.tool({
    name: `ke${tag}`,
    provider: 'anthropic',
    model_id: 'claude-off',
    category_id: catA.id,
    is_active: false,
  });
  await setPopularity(t1.slug, 5);
  await setPopularity(t2.slug, 9);
  await setPopularity(t3.slug, 5);
  await setPopularity(t4.slug, 0);
  await setPopularity(t5.slug, 100);
});

after(async () => {
  await catalog.cleanup();
});

function sameSet(actual, expected, message) {
  assert.deepEqual([...actual].sort(), [...expected].sort(), message);
}

// --- categories -----------------------------------------------------------

test('categories are listed with their details and a count of their active tools', async () => {
  const items = await listCategories();
  const a = items.find((c) => c.id === catA.id);
  const b = items.find((c) => c.id === catB.id);
  assert.ok(a && b, `the test categories are not listed: ${JSON.stringify(items.map((c) => c.name))}`);
  assert.equal(a.name, `cat${tag}a`);
  assert.equal(a.description, 'First test category');
  assert.equal(a.icon, 'sparkles');
  assert.equal(a.tool_count, 2, 'category A has two active tools and one inactive');
  assert.equal(b.tool_count, 1);
});

test('categories are sorted by name', async () => {
  const items = await listCategories();
  const mine = items.filter((c) => c.id === catA.id || c.id === catB.id).map((c) => c.id);
  assert.deepEqual(mine, [catA.id, catB.id]);
  const expected = (await sqlJson('SELECT id FROM categories ORDER BY name, id')).map((row) => row.id);
  assert.deepEqual(ids(items), expected, 'the list is not every category in name order');
});

test('categories need a signed-in user', async () => {
  assertError(await api('GET', '/categories'), 401, 'unauthenticated');
});

// --- the tool list --------------------------------------------------------

test('the tool list shows every field of a tool as it was created', async () => {
  const { items } = await listTools({ q: tag });
  const one = items.find((t) => t.id === t1.id);
  assert.ok(one, `t1 is not listed: ${JSON.stringify(items.map((t) => t.slug))}`);
  assert.equal(one.slug, t1.slug);
  assert.equal(one.name, `ka${tag}`);
  assert.equal(one.display_name, `Tool One ${marks.display}`);
  assert.equal(one.avatar, '/chat/img/one.png');
  assert.equal(one.provider, 'openai');
  assert.equal(one.model_id, 'gpt-test-1');
  assert.equal(one.description, 'The first tool');
  assert.deepEqual(one.category, { id: catA.id, name: catA.name });
  assert.equal(one.popularity, 5);
  assert.equal(one.api_key_required, true);
  assert.deepEqual(one.capabilities, { streaming: true, vision: false });
  assert.deepEqual(one.default_settings, { temperature: 0.5 });
  assert.equal(one.is_active, true);
  assert.equal(one.available, true, 'openai is configured with a key');
  assert.equal(one.unavailable_reason, null);
  assert.equal(one.favorite, false);
  const four = items.find((t) => t.id === t4.id);
  assert.equal(four.category, null, 'a tool without a category has category null');
});

test('inactive tools are not listed, for users or for administrators', async () => {
  for (const auth of [DEMO, ADMIN]) {
    const { items } = await listAllTools({ q: tag, limit: 100 }, auth);
    sameSet(ids(items), [t1.id, t2.id, t3.id, t4.id], `as ${auth.user}`);
  }
  const all = await listAllTools({ limit: 100 }, ADMIN);
  assert.ok(all.items.every((t) => t.is_active === true), 'an inactive tool is in the unfiltered list');
});

test('the category filter lists only that category\'s tools', async () => {
  const mine = await listTools({ category: catA.id, q: tag });
  sameSet(ids(mine.items), [t1.id, t2.id]);

  const { items } = await listAllTools({ category: catB.id, limit: 100 });
  assert.ok(items.length > 0);
  for (const tool of items) assert.equal(tool.category?.id, catB.id, `${tool.slug} is not in category B`);
  assert.ok(ids(items).includes(t3.id));
});

test('a category that does not exist has no tools', async () => {
  const page = await listTools({ category: randomUUID() });
  assert.deepEqual(page.items, []);
  assert.equal(page.next, null);
});

test('the provider filter lists only that provider\'s tools', async () => {
  const mine = await listTools({ provider: 'anthropic', q: tag });
  assert.deepEqual(ids(mine.items), [t2.id]);

  const { items } = await listAllTools({ provider: 'openai', limit: 100 });
  for (const tool of items) assert.equal(tool.provider, 'openai', `${tool.slug} is not an openai tool`);
  assert.ok(ids(items).includes(t1.id) && ids(items).includes(t4.id));

  const none = await listTools({ provider: `noprovider${uniq()}` });
  assert.deepEqual(none.items, []);
});

test('filters combine', async () => {
  const page = await listTools({ q: tag, category: catA.id, provider: 'openai' });
  assert.deepEqual(ids(page.items), [t1.id]);
  const empty = await listTools({ q: tag, category: catB.id, provider: 'openai' });
  assert.deepEqual(empty.items, []);
});

for (const [field, which] of [['name', () => t4], ['display_name', () => t1], ['slug', () => t3], ['description', () => t2]]) {
  test(`q finds a tool by its ${field}, ignoring case`, async () => {
    const mark = { name: marks.name, display_name: marks.display, slug: marks.slug, description: marks.description }[field];
    for (const q of [mark, mark.toUpperCase(), mark.slice(1, -1)]) {
      const page = await listTools({ q });
      assert.deepEqual(ids(page.items), [which().id], `q=${q}`);
    }
  });
}

test('every result of q contains it in name, display name, slug or description', async () => {
  const { items } = await listAllTools({ q: 'TOOL', limit: 100 });
  assert.ok(ids(items).includes(t1.id), 't1 ("Tool One …") does not match q=TOOL');
  for (const tool of items) {
    const text = [tool.name, tool.display_name, tool.slug, tool.description].join(' ').toLowerCase();
    assert.ok(text.includes('tool'), `${tool.slug} does not contain "tool"`);
  }
});

test('LIKE wildcards in q are searched for literally', async () => {
  for (const q of ['%', '_', '\\', `${tag}%`, `k_${tag}`]) {
    const { items } = await listAllTools({ q, limit: 100 });
    for (const tool of items) {
      const text = [tool.name, tool.display_name, tool.slug, tool.description].join(' ').toLowerCase();
      assert.ok(text.includes(q.toLowerCase()), `q=${q} matched ${tool.slug}, which does not contain it`);
    }
  }
});

test('a search without matches is an empty last page', async () => {
  const page = await listTools({ q: `nothing-matches-${uniq()}` });
  assert.deepEqual(page.items, []);
  assert.equal(page.next, null);
});

// --- sorting ----------------------------------------------------------------

test('sort=popularity lists the most used first, ties by id', async () => {
  const { items } = await listTools({ q: tag, sort: 'popularity' });
  const [low, high] = [t1.id, t3.id].sort();
  assert.deepEqual(ids(items), [t2.id, high, low, t4.id]);
  assert.deepEqual(items.map((t) => t.popularity), [9, 5, 5, 0]);
});

test('popularity is the default sort', async () => {
  const byDefault = await listTools({ q: tag });
  const explicit = await listTools({ q: tag, sort: 'popularity' });
  assert.deepEqual(ids(byDefault.items), ids(explicit.items));
});

test('sort=name lists by name', async () => {
  const { items } = await listTools({ q: tag, sort: 'name' });
  assert.deepEqual(ids(items), [t1.id, t2.id, t3.id, t4.id]);
});

test('sort=newest lists the most recently added first', async () => {
  const { items } = await listTools({ q: tag, sort: 'newest' });
  assert.deepEqual(ids(items), [t4.id, t3.id, t2.id, t1.id]);
});

for (const sort of ['popularity', 'newest', 'name']) {
  test(`the whole catalog, page by page, is in ${sort} order`, async () => {
    const { items } = await listAllTools({ sort, limit: 3 });
    assertSorted(items, sort, `GET /tools?sort=${sort}`);
    assert.equal(new Set(ids(items)).size, items.length, 'a tool is listed twice');
    const all = await listAllTools({ sort, limit: 100 });
    assert.deepEqual(ids(items), ids(all.items), 'pages of 3 and pages of 100 disagree');
  });
}

// --- limits and bad parameters ---------------------------------------------

test('a page holds 20 tools unless limit says otherwise', async () => {
  const all = await listAllTools({ limit: 100 });
  const page = await listTools({});
  assert.equal(page.items.length, Math.min(20, all.items.length));
  assert.equal(page.next === null, all.items.length <= 20, 'next must be set exactly when more tools follow');
  const one = await listTools({ limit: 1 });
  assert.equal(one.items.length, 1);
  assert.notEqual(one.next, null, 'the catalog has more than one tool, so a page of one has a next cursor');
  const hundred = await listTools({ limit: 100 });
  assert.equal(hundred.items.length, Math.min(100, all.items.length));
});

const BAD_PARAMS = [
  ['an unknown sort', { sort: 'price' }, 'sort'],
  ['an empty sort', { sort: '' }, 'sort'],
  ['limit 0', { limit: '0' }, 'limit'],
  ['limit 101', { limit: '101' }, 'limit'],
  ['limit -1', { limit: '-1' }, 'limit'],
  ['limit x', { limit: 'x' }, 'limit'],
  ['limit 2x', { limit: '2x' }, 'limit'],
  ['a category that is not a UUID', { category: 'chat' }, 'category'],
  ['a category that is SQL', { category: "1' OR '1'='1" }, 'category'],
  ['a garbage cursor', { after: 'garbage' }, 'after'],
  ['a cursor that is SQL', { after: "x' OR '1'='1" }, 'after'],
];

for (const [what, params, field] of BAD_PARAMS) {
  test(`GET /tools with ${what} is 422 naming ${field}`, async () => {
    const search = new URLSearchParams(params).toString();
    assertError(await api('GET', `/tools?${search}`, DEMO), 422, 'invalid_field', field);
  });
}

test('the tool list needs a signed-in user', async () => {
  assertError(await api('GET', '/tools'), 401, 'unauthenticated');
});

// --- one tool ---------------------------------------------------------------

test('GET /tools/{slug} returns the tool as the list shows it', async () => {
  const one = assertJson(await api('GET', `/tools/${t1.slug}`, DEMO), 200);
  assertToolShape(one, `GET /tools/${t1.slug}`);
  const { items } = await listTools({ q: tag });
  assert.deepEqual(one, items.find((t) => t.id === t1.id));
});

test('an unknown slug is 404', async () => {
  assertError(await api('GET', `/tools/no-such-tool-${uniq()}`, DEMO), 404, 'not_found');
  assertError(await api('GET', `/tools/${encodeURIComponent("x' OR '1'='1")}`, DEMO), 404, 'not_found');
});

test('an inactive tool is 404 for a user, and visible to an administrator', async () => {
  assertError(await api('GET', `/tools/${t5.slug}`, DEMO), 404, 'not_found');
  const seen = assertJson(await api('GET', `/tools/${t5.slug}`, ADMIN), 200);
  assertToolShape(seen, 'inactive tool seen by admin');
  assert.equal(seen.id, t5.id);
  assert.equal(seen.is_active, false);
});
