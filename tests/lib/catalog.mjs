// The catalog (categories and AI tools) for the integration tests: shape
// assertions, list and page helpers, and a Catalog that creates uniquely
// named tools and categories through the admin API and removes them again.

import assert from 'node:assert/strict';
import { api } from './http.mjs';
import { sql, sqlJson, sqlValue } from './db.mjs';
import { assertJson, UUID_RE } from './assert.mjs';
import { ADMIN, DEMO, uniq } from './users.mjs';

export const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

const TOOL_FIELDS = [
  'id', 'slug', 'name', 'display_name', 'avatar', 'provider', 'model_id', 'description', 'category',
  'popularity', 'api_key_required', 'capabilities', 'default_settings', 'is_active', 'created_at',
  'updated_at', 'available', 'unavailable_reason', 'favorite',
];

const CATEGORY_FIELDS = ['id', 'name', 'description', 'icon', 'tool_count', 'created_at', 'updated_at'];

function isTimestamp(value) {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nullOr(type, value) {
  return value === null || typeof value === type;
}

/** A tool object of the catalog API: every field, with its type. */
export function assertToolShape(tool, what = 'tool') {
  const show = JSON.stringify(tool);
  assert.ok(isPlainObject(tool), `${what} is not an object: ${show}`);
  for (const key of TOOL_FIELDS) assert.ok(key in tool, `${what} lacks "${key}": ${show}`);
  assert.match(tool.id, UUID_RE, `${what}.id is not a UUID: ${show}`);
  assert.ok(typeof tool.slug === 'string' && SLUG_RE.test(tool.slug), `${what}.slug: ${show}`);
  assert.ok(typeof tool.name === 'string' && tool.name !== '', `${what}.name: ${show}`);
  assert.ok(nullOr('string', tool.display_name), `${what}.display_name: ${show}`);
  assert.ok(nullOr('string', tool.avatar), `${what}.avatar: ${show}`);
  assert.ok(typeof tool.provider === 'string' && tool.provider !== '', `${what}.provider: ${show}`);
  assert.ok(typeof tool.model_id === 'string' && tool.model_id !== '', `${what}.model_id: ${show}`);
  assert.ok(nullOr('string', tool.description), `${what}.description: ${show}`);
  if (tool.category !== null) {
    assert.ok(isPlainObject(tool.category), `${what}.category is neither null nor an object: ${show}`);
    assert.match(tool.category.id ?? '', UUID_RE, `${what}.category.id: ${show}`);
    assert.equal(typeof tool.category.name, 'string', `${what}.category.name: ${show}`);
  }
  assert.ok(Number.isInteger(tool.popularity) && tool.popularity >= 0, `${what}.popularity: ${show}`);
  assert.equal(typeof tool.api_key_required, 'boolean', `${what}.api_key_required: ${show}`);
  assert.ok(isPlainObject(tool.capabilities), `${what}.capabilities is not an object: ${show}`);
  assert.ok(isPlainObject(tool.default_settings), `${what}.default_settings is not an object: ${show}`);
  assert.equal(typeof tool.is_active, 'boolean', `${what}.is_active: ${show}`);
  assert.ok(isTimestamp(tool.created_at), `${what}.created_at: ${show}`);
  assert.ok(isTimestamp(tool.updated_at), `${what}.updated_at: ${show}`);
  assert.equal(typeof tool.available, 'boolean', `${what}.available: ${show}`);
  if (tool.available) {
    assert.equal(tool.unavailable_reason, null, `${what} is available but has a reason: ${show}`);
  } else {
    assert.ok(
      typeof tool.unavailable_reason === 'string' && tool.unavailable_reason.trim() !== '',
      `${what} is unavailable without a reason: ${show}`,
    );
  }
  assert.equal(typeof tool.favorite, 'boolean', `${what}.favorite: ${show}`);
}

/** A category object of the catalog API: every field, with its type. */
export function assertCategoryShape(category, what = 'category') {
  const show = JSON.stringify(category);
  assert.ok(isPlainObject(category), `${what} is not an object: ${show}`);
  for (const key of CATEGORY_FIELDS) assert.ok(key in category, `${what} lacks "${key}": ${show}`);
  assert.match(category.id, UUID_RE, `${what}.id: ${show}`);
  assert.ok(typeof category.name === 'string' && category.name !== '', `${what}.name: ${show}`);
  assert.ok(nullOr('string', category.description), `${what}.description: ${show}`);
  assert.ok(nullOr('string', category.icon), `${what}.icon: ${show}`);
  assert.ok(Number.isInteger(category.tool_count) && category.tool_count >= 0, `${what}.tool_count: ${show}`);
  assert.ok(isTimestamp(category.created_at), `${what}.created_at: ${show}`);
  assert.ok(isTimestamp(category.updated_at), `${what}.updated_at: ${show}`);
}

/** "?a=1&b=2" from an object; undefined values are left out. */
export function queryString(params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** One page of GET /tools: asserts the envelope and every tool's shape; returns {items, next}. */
export async function listTools(params = {}, auth = DEMO) {
  const res = await api('GET', `/tools${queryString(params)}`, auth);
  const body = assertJson(res, 200);
  assert.ok(Array.isArray(body.items), `${res.label}: items is not an array: ${res.text.slice(0, 300)}`);
  assert.ok('next' in body, `${res.label}: no "next": ${res.text.slice(0, 300)}`);
  assert.ok(body.next === null || (typeof body.next === 'string' && body.next !== ''), `${res.label}: next ${JSON.stringify(body.next)}`);
  body.items.forEach((tool, i) => assertToolShape(tool, `${res.label} item ${i}`));
  if (params.limit !== undefined) {
    assert.ok(body.items.length <= Number(params.limit), `${res.label} returned ${body.items.length} items`);
  }
  return body;
}

/**
 * Every page of GET /tools with these parameters, following next; returns
 * { items, pages } (the pages as arrays of tools). between(pageIndex) runs
 * after each page that has a next cursor, before the next page is asked for.
 */
export async function listAllTools(params = {}, auth = DEMO, { between, maxPages = 500 } = {}) {
  const pages = [];
  let after;
  for (;;) {
    const page = await listTools({ ...params, after }, auth);
    pages.push(page.items);
    if (page.next === null) break;
    assert.ok(page.items.length > 0, 'a page with a next cursor is empty');
    assert.ok(pages.length < maxPages, `pagination did not end after ${maxPages} pages`);
    if (between) await between(pages.length - 1);
    after = page.next;
  }
  return { items: pages.flat(), pages };
}

/** GET /categories as this user: asserts the envelope and shapes; returns the items. */
export async function listCategories(auth = DEMO) {
  const res = await api('GET', '/categories', auth);
  const body = assertJson(res, 200);
  assert.ok(Array.isArray(body.items), `${res.label}: items is not an array: ${res.text.slice(0, 300)}`);
  body.items.forEach((category, i) => assertCategoryShape(category, `${res.label} item ${i}`));
  return body.items;
}

/** The ai_tools row with this slug as a plain object, or undefined. */
export async function dbTool(slug) {
  const rows = await sqlJson(`SELECT * FROM ai_tools WHERE slug = :'p1'`, slug);
  return rows[0];
}

/** The ai_tools row with this id as a plain object, or undefined. */
export async function dbToolById(id) {
  const rows = await sqlJson(`SELECT * FROM ai_tools WHERE id = :'p1'`, id);
  return rows[0];
}

/** The categories row with this id as a plain object, or undefined. */
export async function dbCategory(id) {
  const rows = await sqlJson(`SELECT * FROM categories WHERE id = :'p1'`, id);
  return rows[0];
}

/** Set a tool's popularity directly in the database (no API sets it). */
export async function setPopularity(slug, popularity) {
  await sql(`UPDATE ai_tools SET popularity = :'p1' WHERE slug = :'p2'`, popularity, slug);
}

/** Rows of user_favorite_tools for this user and tool (0 or 1, unless favourites are duplicated). */
export async function favoriteRowCount(userId, toolId) {
  return Number(
    await sqlValue(`SELECT count(*) FROM user_favorite_tools WHERE user_id = :'p1' AND tool_id = :'p2'`, userId, toolId),
  );
}

/**
 * Creates tools and categories with names unique to this run through the
 * admin API and deletes them in cleanup() (through the API, then with psql
 * for anything the API left behind).
 */
export class Catalog {
  constructor(prefix = 'cat') {
    this.tag = uniq();
    this.prefix = `${prefix}-${this.tag}`;
    this.toolIds = [];
    this.categoryIds = [];
  }

  /** A fresh slug starting with this catalog's prefix. */
  slug(suffix = uniq(3)) {
    return `${this.prefix}-${suffix}`;
  }

  /** Remember a tool (by id) to delete in cleanup(). */
  track(tool) {
    if (tool?.id && !this.toolIds.includes(tool.id)) this.toolIds.push(tool.id);
    return tool;
  }

  trackCategory(category) {
    if (category?.id && !this.categoryIds.includes(category.id)) this.categoryIds.push(category.id);
    return category;
  }

  /** POST /admin/tools; returns the response (tracking whatever it created). */
  async createToolRes(body) {
    const res = await api('POST', '/admin/tools', { ...ADMIN, body });
    if (res.status === 201 && res.json?.id) this.track(res.json);
    return res;
  }

  /** A tool made through POST /admin/tools (201 asserted); fields override the defaults. */
  async tool(fields = {}) {
    const slug = fields.slug ?? this.slug();
    const body = { slug, name: `Tool ${slug}`, provider: 'openai', model_id: 'mock-model', ...fields };
    const res = await this.createToolRes(body);
    return assertJson(res, 201);
  }

  /** POST /admin/categories; returns the response (tracking whatever it created). */
  async createCategoryRes(body) {
    const res = await api('POST', '/admin/categories', { ...ADMIN, body });
    if (res.status === 201 && res.json?.id) this.trackCategory(res.json);
    return res;
  }

  /** A category made through POST /admin/categories (201 asserted). */
  async category(fields = {}) {
    const body = { name: `Category ${this.prefix} ${uniq(3)}`, ...fields };
    return assertJson(await this.createCategoryRes(body), 201);
  }

  async cleanup() {
    const problems = [];
    if (this.toolIds.length > 0) {
      const rows = await sqlJson(`SELECT id, slug FROM ai_tools WHERE id = ANY (:'p1'::uuid[])`, `{${this.toolIds.join(',')}}`);
      for (const { slug } of rows) {
        const res = await api('DELETE', `/admin/tools/${encodeURIComponent(slug)}`, ADMIN);
        if (![204, 404].includes(res.status)) problems.push(`DELETE tool ${slug}: ${res.status} ${res.text.slice(0, 200)}`);
      }
      try {
        await sql(`DELETE FROM ai_tools WHERE id = ANY (:'p1'::uuid[])`, `{${this.toolIds.join(',')}}`);
      } catch (err) {
        problems.push(`psql could not delete leftover tools: ${err.message}`);
      }
    }
    for (const id of this.categoryIds) {
      const res = await api('DELETE', `/admin/categories/${id}`, ADMIN);
      if (![204, 404].includes(res.status)) problems.push(`DELETE category ${id}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    if (this.categoryIds.length > 0) {
      try {
        await sql(`DELETE FROM categories WHERE id = ANY (:'p1'::uuid[])`, `{${this.categoryIds.join(',')}}`);
      } catch (err) {
        problems.push(`psql could not delete leftover categories: ${err.message}`);
      }
    }
    assert.deepEqual(problems, [], 'cleanup of the catalog test data failed');
  }
}

/** Ids of a list of tools, in order. */
export function ids(tools) {
  return tools.map((tool) => tool.id);
}

/**
 * Asserts that the tools are ordered by this sort of the catalog API:
 * popularity (descending), newest (created_at descending) or name
 * (ascending). Ties are broken by the id in the sort's own direction
 * (popularity and newest: id descending; name: id ascending), the order a
 * keyset cursor on (key, id) walks. Names themselves are not compared here
 * (their order depends on the collation): callers that check the name order
 * use names whose order is the same in every collation.
 */
export function assertSorted(tools, sort, what = 'list') {
  for (let i = 1; i < tools.length; i++) {
    const a = tools[i - 1];
    const b = tools[i];
    const pair = `${what}: ${JSON.stringify(pick(a, sort))} before ${JSON.stringify(pick(b, sort))}`;
    if (sort === 'popularity') {
      assert.ok(a.popularity >= b.popularity, `not by popularity descending; ${pair}`);
      if (a.popularity === b.popularity) assert.ok(a.id > b.id, `equal popularity not ordered by id descending; ${pair}`);
    } else if (sort === 'newest') {
      assert.ok(Date.parse(a.created_at) >= Date.parse(b.created_at), `not newest first; ${pair}`);
      if (a.created_at === b.created_at) assert.ok(a.id > b.id, `equal created_at not ordered by id descending; ${pair}`);
    } else if (sort === 'name') {
      if (a.name === b.name) assert.ok(a.id < b.id, `equal names not ordered by id ascending; ${pair}`);
    } else {
      throw new Error(`assertSorted: unknown sort ${sort}`);
    }
  }
}

function pick(tool, sort) {
  const key = { popularity: 'popularity', newest: 'created_at', name: 'name' }[sort];
  return { id: tool.id, slug: tool.slug, [key]: tool[key] };
}
