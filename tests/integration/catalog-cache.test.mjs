// GET /tools without search is answered from a copy of the catalog each
// server process keeps in memory (search goes to the database). These tests
// hold that copy to the database's answer, page for page, and check that a
// change — through the admin API or straight in the database — is visible on
// the very next request, in whichever process answers it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sql } from '../lib/db.mjs';
import { assertJson } from '../lib/assert.mjs';
import { ADMIN, DEMO } from '../lib/users.mjs';
import { Catalog, ids, listTools, queryString, setPopularity } from '../lib/catalog.mjs';

const catalog = new Catalog('catc');
const tag = catalog.tag;
// Enough parallel requests to open several connections, served by every process.
const PARALLEL = 24;
// Ties at 4 and 0, so the order falls back to the id.
const POPULARITY = [4, 9, 4, 0, 2, 4, 0];
let category;
let tools = [];

before(async () => {
  category = await catalog.category({ name: `cat${tag}c` });
  for (const [i, popularity] of POPULARITY.entries()) {
    // Every tool of this test is in `category` and matches q=tag.
    const tool = await catalog.tool({
      name: `k${String.fromCharCode(97 + (i * 3) % 7)}${tag}`,
      provider: i % 3 === 2 ? 'nokey' : 'openai',
      category_id: category.id,
    });
    await setPopularity(tool.slug, popularity);
    tools.push(tool);
  }
  for (const tool of [tools[1], tools[4]]) {
    assertJson(await api('PUT', `/tools/${tool.slug}/favorite`, DEMO), 200);
  }
});

after(async () => {
  await catalog.cleanup();
});

/** The raw pages of GET /tools, following next; each page as the server's parsed body. */
async function pages(params, auth = DEMO) {
  const out = [];
  let after;
  for (;;) {
    const page = await listTools({ ...params, after }, auth);
    out.push(page);
    if (page.next === null || out.length > 50) return out;
    after = page.next;
  }
}

/** The same GET sent PARALLEL times at once; the parsed bodies. */
async function parallel(params, auth = DEMO) {
  const responses = await Promise.all(
    Array.from({ length: PARALLEL }, () => api('GET', `/tools${queryString(params)}`, auth)),
  );
  return responses.map((res) => assertJson(res, 200));
}

for (const sort of ['popularity', 'name', 'newest']) {
  for (const [what, extra] of [
    ['all', {}],
    ['one provider', { provider: 'nokey' }],
    ['favourites', { favorites: 'true' }],
  ]) {
    test(`sort=${sort}, ${what}: the pages from memory are the database's pages`, async () => {
      for (const limit of [1, 2, 3, 20]) {
        // q=tag is answered by the database, category= from memory: the same tools.
        const fromDb = await pages({ q: tag, sort, limit, ...extra });
        const fromMemory = await pages({ category: category.id, sort, limit, ...extra });
        assert.deepEqual(fromMemory, fromDb, `sort=${sort} limit=${limit} ${what}`);
      }
    });
  }
}

test('an admin edit is visible on the next request in every process', async () => {
  const tool = tools[0];
  await parallel({ category: category.id });
  const res = await api('PATCH', `/admin/tools/${tool.slug}`, { ...ADMIN, body: { display_name: `Edited ${tag}` } });
  assertJson(res, 200);
  for (const body of await parallel({ category: category.id })) {
    const seen = body.items.find((t) => t.id === tool.id);
    assert.equal(seen?.display_name, `Edited ${tag}`, 'a process answered with the model as it was');
  }

  assertJson(await api('PATCH', `/admin/tools/${tool.slug}`, { ...ADMIN, body: { is_active: false } }), 200);
  for (const body of await parallel({ category: category.id })) {
    assert.ok(!ids(body.items).includes(tool.id), 'a deactivated model is still listed');
  }
  assertJson(await api('PATCH', `/admin/tools/${tool.slug}`, { ...ADMIN, body: { is_active: true } }), 200);
  for (const body of await parallel({ category: category.id })) {
    assert.ok(ids(body.items).includes(tool.id), 'a reactivated model is not listed');
  }
});

test('a new model and a deleted one are seen on the next request', async () => {
  await parallel({ category: category.id });
  const added = await catalog.tool({ name: `kz${tag}`, category_id: category.id });
  for (const body of await parallel({ category: category.id, limit: 100 })) {
    assert.ok(ids(body.items).includes(added.id), 'a new model is missing');
  }
  assert.equal((await api('DELETE', `/admin/tools/${added.slug}`, ADMIN)).status, 204);
  for (const body of await parallel({ category: category.id, limit: 100 })) {
    assert.ok(!ids(body.items).includes(added.id), 'a deleted model is still listed');
  }
});

test('a change made in the database directly is seen on the next request', async () => {
  const tool = tools[3];
  await parallel({ category: category.id });
  await setPopularity(tool.slug, 1000);
  for (const body of await parallel({ category: category.id, limit: 1 })) {
    assert.equal(body.items[0]?.id, tool.id, 'the most popular model is not first');
    assert.equal(body.items[0]?.popularity, 1000);
  }
  await sql(`DELETE FROM ai_tools WHERE slug = :'p1'`, tool.slug);
  for (const body of await parallel({ category: category.id, limit: 100 })) {
    assert.ok(!ids(body.items).includes(tool.id), 'a model deleted with SQL is still listed');
  }
  tools = tools.filter((t) => t.id !== tool.id);
});

test('a renamed category is renamed in its models on the next request', async () => {
  await parallel({ category: category.id });
  const name = `cat${tag}renamed`;
  assertJson(await api('PATCH', `/admin/categories/${category.id}`, { ...ADMIN, body: { name } }), 200);
  for (const body of await parallel({ category: category.id })) {
    assert.ok(body.items.length > 0);
    for (const tool of body.items) assert.equal(tool.category?.name, name);
  }
});

test("favourites are the viewer's own and current on the next request", async () => {
  const tool = tools[2];
  await parallel({ category: category.id, limit: 100 });
  assertJson(await api('PUT', `/tools/${tool.slug}/favorite`, DEMO), 200);
  for (const body of await parallel({ category: category.id, limit: 100 })) {
    assert.equal(body.items.find((t) => t.id === tool.id)?.favorite, true);
  }
  for (const body of await parallel({ category: category.id, limit: 100 }, ADMIN)) {
    assert.equal(body.items.find((t) => t.id === tool.id)?.favorite, false, "another user's favourite");
  }
  assertJson(await api('DELETE', `/tools/${tool.slug}/favorite`, DEMO), 200);
  for (const body of await parallel({ category: category.id, limit: 100 })) {
    assert.equal(body.items.find((t) => t.id === tool.id)?.favorite, false);
  }
});

test('a cursor naming a model that changed since still continues the list', async () => {
  const first = await listTools({ category: category.id, limit: 2 });
  const last = first.items[1];
  await setPopularity(last.slug, last.popularity + 1);
  const fromMemory = await listTools({ category: category.id, limit: 2, after: first.next });
  const fromDb = await listTools({ q: tag, limit: 2, after: first.next });
  assert.deepEqual(fromMemory, fromDb);
  assert.ok(!ids(fromMemory.items).includes(last.id), 'the cursor model came back');
});
