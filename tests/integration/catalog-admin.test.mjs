// Administering the catalog: only administrators may create, change or
// delete tools and categories; bad input is a 422 naming the field and
// changes nothing; every change writes one audit row with the old and new
// values; deactivated tools disappear for users; a category that still holds
// tools cannot be deleted.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from '../lib/http.mjs';
import { dbUser, sqlJson } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { assertError, assertJson, assertStatus } from '../lib/assert.mjs';
import { DEMO, ADMIN, uniq } from '../lib/users.mjs';
import {
  Catalog, assertCategoryShape, assertToolShape, dbCategory, dbTool, dbToolById, ids, listAllTools,
  listCategories, listTools,
} from '../lib/catalog.mjs';

const catalog = new Catalog('catm');
const tag = catalog.tag;
let adminId;
let c1;
let c2;
let target; // a tool the refused and invalid requests aim at

before(async () => {
  adminId = (await dbUser('admin')).id;
  c1 = await catalog.category({ name: `adm${tag}one`, description: 'one', icon: 'star' });
  c2 = await catalog.category({ name: `adm${tag}two` });
  target = await catalog.tool({
    name: `adm${tag}target`,
    display_name: 'Target',
    category_id: c1.id,
    capabilities: { streaming: true },
    default_settings: { temperature: 1 },
  });
});

after(async () => {
  await catalog.cleanup();
});

const patchTool = (slug, body, auth = ADMIN) => api('PATCH', `/admin/tools/${encodeURIComponent(slug)}`, { ...auth, body });
const deleteTool = (slug, auth = ADMIN) => api('DELETE', `/admin/tools/${encodeURIComponent(slug)}`, auth);
const patchCategory = (id, body, auth = ADMIN) => api('PATCH', `/admin/categories/${id}`, { ...auth, body });
const deleteCategory = (id, auth = ADMIN) => api('DELETE', `/admin/categories/${id}`, auth);

/**
 * This file's part of the catalog as stored: every tool and category whose
 * name or slug carries this run's tag (every one this file creates, or tries
 * to, does), so other clients of a shared server do not disturb the check.
 */
async function snapshot() {
  const [state] = await sqlJson(
    `SELECT (SELECT coalesce(json_agg(t ORDER BY t.id), '[]') FROM ai_tools t
              WHERE strpos(t.name, :'p1') > 0 OR strpos(t.slug, :'p1') > 0) AS tools,
            (SELECT coalesce(json_agg(c ORDER BY c.id), '[]') FROM categories c
              WHERE strpos(c.name, :'p1') > 0) AS categories`,
    tag,
  );
  return state;
}

/** Asserts that fn() leaves this file's tools and categories as they were. */
async function unchanged(fn) {
  const before = await snapshot();
  assert.ok(before.tools.some((t) => t.id === target.id), 'the snapshot misses the target tool');
  await fn();
  assert.deepEqual(await snapshot(), before, 'a refused request changed the catalog');
}

/** The audit row of a refused request: status as answered, no change recorded. */
async function assertNoChangeAudited(res) {
  const row = await auditRow(res);
  assert.equal(row.status, res.status);
  assert.ok(!['create', 'update', 'delete'].includes(row.action), `a refused request was audited as ${row.action}`);
  assert.equal(row.new_values, null, 'a refused request recorded new values');
}

// --- who may ----------------------------------------------------------------

function adminRoutes() {
  return [
    ['POST /admin/tools', (auth) => api('POST', '/admin/tools', { ...auth, body: { slug: catalog.slug(), name: `adm${tag}nope`, provider: 'openai', model_id: 'm' } })],
    ['PATCH /admin/tools/{slug}', (auth) => patchTool(target.slug, { display_name: 'Hacked' }, auth)],
    ['PATCH /admin/tools/{unknown slug}', (auth) => patchTool(`no-such-${uniq()}`, { display_name: 'Hacked' }, auth)],
    ['DELETE /admin/tools/{slug}', (auth) => deleteTool(target.slug, auth)],
    ['POST /admin/categories', (auth) => api('POST', '/admin/categories', { ...auth, body: { name: `nope${tag}` } })],
    ['PATCH /admin/categories/{id}', (auth) => patchCategory(c1.id, { name: 'Hacked' }, auth)],
    ['DELETE /admin/categories/{id}', (auth) => deleteCategory(c2.id, auth)],
    ['DELETE /admin/categories/{unknown id}', (auth) => deleteCategory(randomUUID(), auth)],
  ];
}

for (const [route, send] of adminRoutes()) {
  test(`${route} is 403 for a user and changes nothing`, async () => {
    await unchanged(async () => {
      const res = await send(DEMO);
      assertError(res, 403, 'forbidden');
      await assertNoChangeAudited(res);
    });
  });

  test(`${route} is 401 without credentials`, async () => {
    await unchanged(async () => {
      assertError(await send({}), 401, 'unauthenticated');
    });
  });
}

// --- tools: create --------------------------------------------------------

test('an administrator creates a tool with every field', async () => {
  const slug = catalog.slug('full');
  const body = {
    slug,
    name: `adm${tag}full`,
    display_name: 'Full Tool',
    provider: 'anthropic',
    model_id: 'claude-full',
    description: 'Has everything',
    category_id: c2.id,
    avatar: '/chat/img/full.png',
    api_key_required: false,
    capabilities: { streaming: true, tools: ['search'] },
    default_settings: { temperature: 0.2, max_tokens: 512 },
    is_active: true,
  };
  const res = await catalog.createToolRes(body);
  const tool = assertJson(res, 201);
  assertToolShape(tool, 'created tool');
  for (const key of ['slug', 'name', 'display_name', 'provider', 'model_id', 'description', 'avatar', 'api_key_required', 'capabilities', 'default_settings', 'is_active']) {
    assert.deepEqual(tool[key], body[key], `created tool's ${key}`);
  }
  assert.deepEqual(tool.category, { id: c2.id, name: c2.name });
  assert.equal(tool.popularity, 0);
  assert.equal(tool.favorite, false);

  const row = await dbTool(slug);
  assert.ok(row, 'no ai_tools row');
  assert.equal(row.id, tool.id);
  assert.equal(row.provider, 'anthropic');
  assert.equal(row.model_id, 'claude-full');
  assert.deepEqual(row.capabilities, body.capabilities);

  const seen = assertJson(await api('GET', `/tools/${slug}`, DEMO), 200);
  assert.equal(seen.id, tool.id);

  const audit = await auditRow(res);
  assert.equal(audit.action, 'create');
  assert.equal(audit.status, 201);
  assert.equal(audit.user_id, adminId);
  assert.equal(audit.entity_type, 'ai_tool');
  assert.equal(audit.entity_id, tool.id);
  assert.equal(audit.old_values, null);
  assert.ok(audit.new_values && typeof audit.new_values === 'object', `new_values: ${JSON.stringify(audit.new_values)}`);
  assert.equal(audit.new_values.id, tool.id);
  for (const key of ['slug', 'name', 'display_name', 'provider', 'model_id', 'description', 'avatar', 'api_key_required', 'capabilities', 'default_settings', 'is_active']) {
    assert.deepEqual(audit.new_values[key], body[key], `audit new_values.${key}`);
  }
});

test('a tool created with only the required fields is active, uncategorised and listed', async () => {
  const slug = catalog.slug('min');
  const tool = assertJson(await catalog.createToolRes({ slug, name: `adm${tag}min`, provider: 'openai', model_id: 'gpt-min' }), 201);
  assertToolShape(tool, 'created tool');
  assert.equal(tool.is_active, true);
  assert.equal(tool.category, null);
  assert.deepEqual(tool.capabilities, {});
  assert.deepEqual(tool.default_settings, {});
  assert.equal(tool.popularity, 0);
  const { items } = await listTools({ q: `adm${tag}min` });
  assert.deepEqual(ids(items), [tool.id]);
});

test('a slug of 63 characters is accepted', async () => {
  const slug = `${catalog.prefix}-${'x'.repeat(63)}`.slice(0, 63);
  assert.equal(slug.length, 63);
  const tool = assertJson(await catalog.createToolRes({ slug, name: `adm${tag}long`, provider: 'openai', model_id: 'm' }), 201);
  assert.equal(tool.slug, slug);
});

const BAD_CREATES = [
  ['an upper-case slug', { slug: 'Bad-Slug' }, 'slug'],
  ['a slug with a space', { slug: 'bad slug' }, 'slug'],
  ['a slug starting with a hyphen', { slug: '-bad' }, 'slug'],
  ['a slug of 64 characters', { slug: 'a'.repeat(64) }, 'slug'],
  ['an empty slug', { slug: '' }, 'slug'],
  ['a slug with a slash', { slug: 'a/b' }, 'slug'],
  ['a slug that is not a string', { slug: 42 }, 'slug'],
  ['no slug', { slug: undefined }, 'slug'],
  ['an unknown provider', { provider: 'ghost' }, 'provider'],
  ['no provider', { provider: undefined }, 'provider'],
  ['no name', { name: undefined }, 'name'],
  ['an empty name', { name: '' }, 'name'],
  ['a name that is not a string', { name: 7 }, 'name'],
  ['no model_id', { model_id: undefined }, 'model_id'],
  ['an empty model_id', { model_id: '' }, 'model_id'],
  ['capabilities as an array', { capabilities: ['streaming'] }, 'capabilities'],
  ['capabilities as a string', { capabilities: '{"streaming":true}' }, 'capabilities'],
  ['default_settings as an array', { default_settings: [] }, 'default_settings'],
  ['default_settings as a number', { default_settings: 1 }, 'default_settings'],
  ['a category_id that does not exist', { category_id: randomUUID() }, 'category_id'],
  ['a category_id that is not a UUID', { category_id: 'chat' }, 'category_id'],
  ['is_active as a string', { is_active: 'true' }, 'is_active'],
  ['api_key_required as a number', { api_key_required: 1 }, 'api_key_required'],
];

for (const [what, change, field] of BAD_CREATES) {
  test(`creating a tool with ${what} is 422 naming ${field} and creates nothing`, async () => {
    const slug = catalog.slug();
    const body = { slug, name: `adm${tag}bad`, provider: 'openai', model_id: 'm', ...change };
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
    await unchanged(async () => {
      const res = await catalog.createToolRes(body);
      assertError(res, 422, 'invalid_field', field);
      await assertNoChangeAudited(res);
    });
    assert.equal(await dbTool(slug), undefined);
  });
}

test('creating a tool with a slug already in use is 422 naming slug', async () => {
  await unchanged(async () => {
    const res = await catalog.createToolRes({ slug: target.slug, name: `adm${tag}dup`, provider: 'openai', model_id: 'm' });
    assertError(res, 422, 'invalid_field', 'slug');
  });
});

test('creating a tool with an unknown field is 422 unknown_field', async () => {
  const slug = catalog.slug();
  await unchanged(async () => {
    const res = await catalog.createToolRes({ slug, name: `adm${tag}unk`, provider: 'openai', model_id: 'm', popularity: 1000 });
    assertError(res, 422, 'unknown_field', 'popularity');
    const res2 = await catalog.createToolRes({ slug, name: `adm${tag}unk`, provider: 'openai', model_id: 'm', api_key: 'sk-1' });
    assertError(res2, 422, 'unknown_field', 'api_key');
  });
  assert.equal(await dbTool(slug), undefined);
});

test('a tool body that is not a JSON object is refused', async () => {
  await unchanged(async () => {
    const res = await api('POST', '/admin/tools', { ...ADMIN, body: [] });
    assert.ok([400, 422].includes(res.status), `${res.label} with [] answered ${res.status}`);
  });
});

// --- tools: change ----------------------------------------------------------

test('an administrator changes a tool; the change is audited with old and new values', async () => {
  const tool = await catalog.tool({ name: `adm${tag}chg`, display_name: 'Before', description: 'old text', category_id: c1.id });
  const res = await patchTool(tool.slug, {
    display_name: 'After',
    description: 'new text',
    category_id: c2.id,
    model_id: 'gpt-changed',
    capabilities: { vision: true },
    default_settings: { top_p: 0.9 },
  });
  const changed = assertJson(res, 200);
  assertToolShape(changed, 'changed tool');
  assert.equal(changed.id, tool.id);
  assert.equal(changed.display_name, 'After');
  assert.equal(changed.description, 'new text');
  assert.deepEqual(changed.category, { id: c2.id, name: c2.name });
  assert.equal(changed.model_id, 'gpt-changed');
  assert.deepEqual(changed.capabilities, { vision: true });
  assert.deepEqual(changed.default_settings, { top_p: 0.9 });
  assert.equal(changed.name, tool.name, 'a field not in the PATCH changed');
  assert.equal(changed.created_at, tool.created_at);
  assert.ok(Date.parse(changed.updated_at) > Date.parse(tool.updated_at), `updated_at did not move: ${tool.updated_at} -> ${changed.updated_at}`);

  assert.deepEqual(assertJson(await api('GET', `/tools/${tool.slug}`, DEMO), 200).category, { id: c2.id, name: c2.name });

  const audit = await auditRow(res);
  assert.equal(audit.action, 'update');
  assert.equal(audit.status, 200);
  assert.equal(audit.entity_type, 'ai_tool');
  assert.equal(audit.entity_id, tool.id);
  assert.equal(audit.user_id, adminId);
  assert.equal(audit.old_values?.display_name, 'Before');
  assert.equal(audit.new_values?.display_name, 'After');
  assert.equal(audit.old_values?.description, 'old text');
  assert.equal(audit.new_values?.description, 'new text');
  assert.equal(audit.old_values?.model_id, 'mock-model');
  assert.equal(audit.new_values?.model_id, 'gpt-changed');
  assert.deepEqual(audit.old_values?.capabilities, {});
  assert.deepEqual(audit.new_values?.capabilities, { vision: true });
});

test('a tool\'s slug can be changed; the old slug is then unknown', async () => {
  const tool = await catalog.tool({ name: `adm${tag}ren` });
  const slug = catalog.slug('renamed');
  const res = await patchTool(tool.slug, { slug });
  assert.equal(assertJson(res, 200).slug, slug);
  assertError(await api('GET', `/tools/${tool.slug}`, DEMO), 404, 'not_found');
  assert.equal(assertJson(await api('GET', `/tools/${slug}`, DEMO), 200).id, tool.id);
  const audit = await auditRow(res);
  assert.equal(audit.old_values?.slug, tool.slug);
  assert.equal(audit.new_values?.slug, slug);
});

test('category_id null takes a tool out of its category', async () => {
  const tool = await catalog.tool({ name: `adm${tag}unc`, category_id: c1.id });
  assert.equal(assertJson(await patchTool(tool.slug, { category_id: null }), 200).category, null);
  assert.equal((await dbToolById(tool.id)).category_id, null);
});

test('an empty PATCH changes nothing', async () => {
  const stored = await dbTool(target.slug);
  const res = assertJson(await patchTool(target.slug, {}), 200);
  assert.equal(res.id, target.id);
  assert.deepEqual(await dbTool(target.slug), stored);
});

const BAD_PATCHES = [
  ['an invalid slug', { slug: 'Not A Slug' }, 'invalid_field', 'slug'],
  ['an unknown provider', { provider: 'ghost' }, 'invalid_field', 'provider'],
  ['an empty name', { name: '' }, 'invalid_field', 'name'],
  ['a null name', { name: null }, 'invalid_field', 'name'],
  ['an empty model_id', { model_id: '' }, 'invalid_field', 'model_id'],
  ['capabilities as an array', { capabilities: [] }, 'invalid_field', 'capabilities'],
  ['default_settings as a string', { default_settings: 'hot' }, 'invalid_field', 'default_settings'],
  ['an unknown category', { category_id: randomUUID() }, 'invalid_field', 'category_id'],
  ['is_active as null', { is_active: null }, 'invalid_field', 'is_active'],
  ['a valid and an invalid field', { display_name: 'Half', provider: 'ghost' }, 'invalid_field', 'provider'],
  ['an invalid field after a valid slug', { slug: catalog.slug('moved'), capabilities: 'x' }, 'invalid_field', 'capabilities'],
  ['an unknown field', { display_name: 'Half', popularity: 5 }, 'unknown_field', 'popularity'],
  ['the id', { id: randomUUID() }, 'unknown_field', 'id'],
];

for (const [what, body, code, field] of BAD_PATCHES) {
  test(`a tool PATCH with ${what} is 422 and changes nothing`, async () => {
    await unchanged(async () => {
      const res = await patchTool(target.slug, body);
      assertError(res, 422, code, field);
      await assertNoChangeAudited(res);
    });
  });
}

test('a tool PATCH to a slug another tool has is 422 naming slug', async () => {
  const other = await catalog.tool({ name: `adm${tag}other` });
  await unchanged(async () => {
    assertError(await patchTool(target.slug, { slug: other.slug }), 422, 'invalid_field', 'slug');
  });
  assert.equal((await dbTool(other.slug)).id, other.id);
});

test('changing or deleting an unknown tool is 404', async () => {
  const slug = `no-such-tool-${uniq()}`;
  assertError(await patchTool(slug, { display_name: 'x' }), 404, 'not_found');
  assertError(await deleteTool(slug), 404, 'not_found');
});

// --- tools: deactivate and delete ------------------------------------------

test('a deactivated tool disappears for users until it is activated again', async () => {
  const cat = await catalog.category({ name: `adm${tag}act` });
  const tool = await catalog.tool({ name: `adm${tag}act`, category_id: cat.id });
  const count = async () => (await listCategories()).find((c) => c.id === cat.id).tool_count;
  assert.equal(await count(), 1);

  const off = await patchTool(tool.slug, { is_active: false });
  assert.equal(assertJson(off, 200).is_active, false);
  assert.equal((await dbToolById(tool.id)).is_active, false);
  assert.deepEqual((await listTools({ q: `adm${tag}act` }, DEMO)).items, []);
  assert.deepEqual((await listTools({ q: `adm${tag}act` }, ADMIN)).items, []);
  assert.deepEqual((await listTools({ category: cat.id }, DEMO)).items, []);
  assertError(await api('GET', `/tools/${tool.slug}`, DEMO), 404, 'not_found');
  assert.equal(await count(), 0, 'tool_count still counts the inactive tool');
  const audit = await auditRow(off);
  assert.equal(audit.action, 'update');
  assert.equal(audit.old_values?.is_active, true);
  assert.equal(audit.new_values?.is_active, false);

  assert.equal(assertJson(await patchTool(tool.slug, { is_active: true }), 200).is_active, true);
  assert.deepEqual(ids((await listTools({ q: `adm${tag}act` }, DEMO)).items), [tool.id]);
  assert.equal(assertJson(await api('GET', `/tools/${tool.slug}`, DEMO), 200).id, tool.id);
  assert.equal(await count(), 1);
});

test('an administrator deletes a tool; the deletion is audited with the old values', async () => {
  const tool = await catalog.tool({ name: `adm${tag}del`, display_name: 'Doomed', category_id: c1.id });
  const res = await deleteTool(tool.slug);
  assertStatus(res, 204);
  assert.equal(res.text, '', '204 has a body');
  assertError(await api('GET', `/tools/${tool.slug}`, DEMO), 404, 'not_found');
  assertError(await api('GET', `/tools/${tool.slug}`, ADMIN), 404, 'not_found');
  assert.deepEqual((await listAllTools({ q: `adm${tag}del`, limit: 100 }, ADMIN)).items, []);
  assertError(await deleteTool(tool.slug), 404, 'not_found');

  const audit = await auditRow(res);
  assert.equal(audit.action, 'delete');
  assert.equal(audit.status, 204);
  assert.equal(audit.entity_type, 'ai_tool');
  assert.equal(audit.entity_id, tool.id);
  assert.equal(audit.user_id, adminId);
  assert.equal(audit.new_values, null);
  assert.equal(audit.old_values?.id, tool.id);
  assert.equal(audit.old_values?.slug, tool.slug);
  assert.equal(audit.old_values?.display_name, 'Doomed');
  assert.equal(audit.old_values?.provider, 'openai');
});

test('a deleted tool\'s slug can be used again', async () => {
  const tool = await catalog.tool({ name: `adm${tag}again` });
  assertStatus(await deleteTool(tool.slug), 204);
  const again = await catalog.tool({ slug: tool.slug, name: `adm${tag}again2` });
  assert.notEqual(again.id, tool.id);
});

// --- categories -------------------------------------------------------------

test('an administrator creates a category; it is listed and audited', async () => {
  const name = `adm${tag}new`;
  const res = await catalog.createCategoryRes({ name, description: 'Fresh', icon: 'leaf' });
  const cat = assertJson(res, 201);
  assertCategoryShape(cat, 'created category');
  assert.equal(cat.name, name);
  assert.equal(cat.description, 'Fresh');
  assert.equal(cat.icon, 'leaf');
  assert.equal(cat.tool_count, 0);
  assert.deepEqual((await listCategories(DEMO)).find((c) => c.id === cat.id), cat);
  assert.equal((await dbCategory(cat.id)).name, name);

  const audit = await auditRow(res);
  assert.equal(audit.action, 'create');
  assert.equal(audit.status, 201);
  assert.equal(audit.entity_type, 'category');
  assert.equal(audit.entity_id, cat.id);
  assert.equal(audit.user_id, adminId);
  assert.equal(audit.old_values, null);
  assert.equal(audit.new_values?.id, cat.id);
  assert.equal(audit.new_values?.name, name);
  assert.equal(audit.new_values?.description, 'Fresh');
  assert.equal(audit.new_values?.icon, 'leaf');
});

test('an administrator renames a category; its tools show the new name', async () => {
  const cat = await catalog.category({ name: `adm${tag}old`, description: 'd1', icon: 'i1' });
  const tool = await catalog.tool({ name: `adm${tag}incat`, category_id: cat.id });
  const res = await patchCategory(cat.id, { name: `adm${tag}renamed`, icon: 'i2' });
  const changed = assertJson(res, 200);
  assertCategoryShape(changed, 'changed category');
  assert.equal(changed.name, `adm${tag}renamed`);
  assert.equal(changed.icon, 'i2');
  assert.equal(changed.description, 'd1', 'a field not in the PATCH changed');
  assert.equal(changed.tool_count, 1);
  const seen = assertJson(await api('GET', `/tools/${tool.slug}`, DEMO), 200);
  assert.deepEqual(seen.category, { id: cat.id, name: `adm${tag}renamed` });

  const audit = await auditRow(res);
  assert.equal(audit.action, 'update');
  assert.equal(audit.entity_type, 'category');
  assert.equal(audit.entity_id, cat.id);
  assert.equal(audit.old_values?.name, `adm${tag}old`);
  assert.equal(audit.new_values?.name, `adm${tag}renamed`);
  assert.equal(audit.old_values?.icon, 'i1');
  assert.equal(audit.new_values?.icon, 'i2');
});

const BAD_CATEGORIES = [
  ['no name', {}, 'invalid_field', 'name'],
  ['an empty name', { name: '' }, 'invalid_field', 'name'],
  ['a name that is not a string', { name: ['x'] }, 'invalid_field', 'name'],
  ['an icon that is not a string', { name: `adm${tag}icon`, icon: 5 }, 'invalid_field', 'icon'],
  ['an unknown field', { name: `adm${tag}color`, color: 'red' }, 'unknown_field', 'color'],
];

for (const [what, body, code, field] of BAD_CATEGORIES) {
  test(`creating a category with ${what} is 422 and creates nothing`, async () => {
    await unchanged(async () => {
      const res = await catalog.createCategoryRes(body);
      assertError(res, 422, code, field);
      await assertNoChangeAudited(res);
    });
  });

  if (Object.keys(body).length > 0) {
    test(`changing a category with ${what} is 422 and changes nothing`, async () => {
      await unchanged(async () => {
        const res = await patchCategory(c1.id, body);
        assertError(res, 422, code, field);
      });
    });
  }
}

test('changing or deleting an unknown category is 404', async () => {
  for (const id of [randomUUID(), 'not-a-uuid']) {
    assertError(await patchCategory(id, { name: 'x' }), 404, 'not_found');
    assertError(await deleteCategory(id), 404, 'not_found');
  }
});

test('a category is deleted only once no tool, active or not, is in it', async () => {
  const cat = await catalog.category({ name: `adm${tag}full` });
  const active = await catalog.tool({ name: `adm${tag}inact1`, category_id: cat.id });
  const inactive = await catalog.tool({ name: `adm${tag}inact2`, category_id: cat.id, is_active: false });

  const refused = await deleteCategory(cat.id);
  assertError(refused, 409, 'category_not_empty');
  assert.ok(await dbCategory(cat.id), 'the category was deleted anyway');
  await assertNoChangeAudited(refused);

  assertJson(await patchTool(active.slug, { category_id: c2.id }), 200);
  assertError(await deleteCategory(cat.id), 409, 'category_not_empty');
  assert.ok(await dbCategory(cat.id), 'a category holding an inactive tool was deleted');

  assertStatus(await deleteTool(inactive.slug), 204);
  const res = await deleteCategory(cat.id);
  assertStatus(res, 204);
  assert.equal(res.text, '');
  assert.equal(await dbCategory(cat.id), undefined);
  assert.ok(!ids(await listCategories()).includes(cat.id), 'a deleted category is listed');
  assertError(await deleteCategory(cat.id), 404, 'not_found');
  assert.deepEqual(assertJson(await api('GET', `/tools/${active.slug}`, DEMO), 200).category, { id: c2.id, name: c2.name });

  const audit = await auditRow(res);
  assert.equal(audit.action, 'delete');
  assert.equal(audit.status, 204);
  assert.equal(audit.entity_type, 'category');
  assert.equal(audit.entity_id, cat.id);
  assert.equal(audit.new_values, null);
  assert.equal(audit.old_values?.id, cat.id);
  assert.equal(audit.old_values?.name, `adm${tag}full`);
});

test('every catalog change by this file has exactly one audit row', async () => {
  // Changes are found by entity: one create row per tool created here.
  const rows = await sqlJson(
    `SELECT entity_id, count(*) AS n FROM audit_logs
      WHERE entity_type = 'ai_tool' AND action = 'create' AND entity_id = ANY (:'p1'::text[])
      GROUP BY entity_id`,
    `{${catalog.toolIds.join(',')}}`,
  );
  const counts = Object.fromEntries(rows.map((r) => [r.entity_id, r.n]));
  for (const id of catalog.toolIds) assert.equal(counts[id], 1, `tool ${id} has ${counts[id] ?? 0} create rows`);
});

test('a cross-site admin change is refused', async () => {
  await unchanged(async () => {
    const res = await patchTool(target.slug, { display_name: 'Evil' }, { ...ADMIN, headers: { Origin: 'http://evil.example' } });
    assertError(res, 403, 'csrf_rejected');
  });
});
