// Keyset pagination of GET /tools: the default page size, and pages that
// stay consistent while tools are added between page requests (each tool of
// the set that existed when paging began is listed exactly once, in order).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO } from '../lib/users.mjs';
import { Catalog, assertSorted, ids, listAllTools, listTools, setPopularity } from '../lib/catalog.mjs';

const catalog = new Catalog('catp');
const tag = catalog.tag;
// The popularity of each original tool: ties at 3 and at 0, where the order
// falls back to the id and a tool added with popularity 0 lands among them.
const POPULARITY = [7, 3, 3, 3, 0, 0, 1, 0, 12];
let originals = [];
let added = 0;

before(async () => {
  for (const [i, popularity] of POPULARITY.entries()) {
    // Names "kb<tag>", "kc<tag>", …: after the "a…" tools added below and
    // before the "z…" ones, in any collation.
    const tool = await catalog.tool({ name: `k${String.fromCharCode(98 + i)}${tag}` });
    await setPopularity(tool.slug, popularity);
    originals.push(tool);
  }
});

after(async () => {
  await catalog.cleanup();
});

/** Adds a tool matching q=tag with popularity 0, named to sort first or last. */
async function addTool() {
  added += 1;
  const first = added % 2 === 1;
  const name = `${first ? 'a' : 'z'}${String(added).padStart(3, '0')}${tag}`;
  const tool = await catalog.tool({ name });
  assert.equal(tool.popularity, 0, 'a new tool starts with popularity 0');
  return tool;
}

for (const sort of ['popularity', 'name', 'newest']) {
  test(`sort=${sort}: pages of 2 list every tool once while tools are added between pages`, async () => {
    const start = await listAllTools({ q: tag, sort, limit: 100 });
    assert.ok(start.items.length >= POPULARITY.length, `only ${start.items.length} tools match q=${tag}`);
    assertSorted(start.items, sort, `sort=${sort} before paging`);
    const startIds = ids(start.items);

    const addedIds = [];
    const { items, pages } = await listAllTools({ q: tag, sort, limit: 2 }, DEMO, {
      between: async () => {
        addedIds.push((await addTool()).id);
      },
    });

    for (const [i, page] of pages.entries()) {
      assert.ok(page.length <= 2, `page ${i} has ${page.length} tools`);
      if (i < pages.length - 1) assert.equal(page.length, 2, `page ${i} is short but not the last`);
    }
    const seen = ids(items);
    const dupes = seen.filter((id, i) => seen.indexOf(id) !== i);
    assert.deepEqual(dupes, [], 'a tool was listed on two pages');
    const seenOriginals = seen.filter((id) => startIds.includes(id));
    const missing = startIds.filter((id) => !seen.includes(id));
    assert.deepEqual(missing, [], 'tools that existed before paging began were skipped');
    assert.deepEqual(seenOriginals, startIds, 'the tools that existed before paging are not in their order');
    for (const id of seen) {
      assert.ok(startIds.includes(id) || addedIds.includes(id), `an unknown tool ${id} was listed`);
    }
    if (sort === 'newest') {
      assert.deepEqual(seen.filter((id) => addedIds.includes(id)), [], 'tools newer than the first page came back later');
    }
    assertSorted(items.filter((t) => startIds.includes(t.id)), sort, `sort=${sort} while paging`);
  });
}

test('without a limit a page holds 20 tools and the next page the rest', async () => {
  while ((await listAllTools({ q: tag, limit: 100 })).items.length < 21) await addTool();
  const all = await listAllTools({ q: tag, limit: 100 });
  const first = await listTools({ q: tag });
  assert.equal(first.items.length, 20);
  assert.equal(typeof first.next, 'string');
  assert.deepEqual(ids(first.items), ids(all.items).slice(0, 20));
  const second = await listTools({ q: tag, after: first.next });
  assert.deepEqual(ids(second.items), ids(all.items).slice(20, 40));
});

test('a cursor keeps working with the same filters and sort', async () => {
  const first = await listTools({ q: tag, sort: 'name', limit: 3 });
  const again = await listTools({ q: tag, sort: 'name', limit: 3, after: first.next });
  const twice = await listTools({ q: tag, sort: 'name', limit: 3, after: first.next });
  assert.deepEqual(ids(again.items), ids(twice.items), 'the same cursor gave two different pages');
  const all = await listAllTools({ q: tag, sort: 'name', limit: 100 });
  assert.deepEqual(ids(again.items), ids(all.items).slice(3, 6));
});
