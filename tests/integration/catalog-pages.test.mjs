// The server-rendered catalog pages under /chat/admin/catalog: the list, the
// model form with validation errors next to their field, editing,
// deactivating and deleting, and categories. Used as a browser would, with
// the form-login session and our own Origin.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, request, sessionCookie } from '../lib/http.mjs';
import { sql } from '../lib/db.mjs';
import { assertHtml, assertJson, locationPath } from '../lib/assert.mjs';
import { ORIGIN } from '../lib/env.mjs';
import { DEMO, uniq } from '../lib/users.mjs';

let cookie;
const slug = `page-${uniq()}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
const category = `Page category ${uniq()}`;

before(async () => {
  cookie = await sessionCookie('admin', 'admin');
});

after(async () => {
  await sql(`DELETE FROM ai_tools WHERE slug = :'p1'`, slug);
  await sql(`DELETE FROM categories WHERE name = :'p1'`, category);
});

function post(path, form) {
  return request('POST', path, { cookie, form, headers: { Origin: ORIGIN } });
}

const validForm = () => ({
  action: 'save', slug, name: 'Page <b>model</b>', display_name: '', provider: 'openai',
  model_id: 'gpt-4o-mini', category_id: '', description: 'Made on the admin page',
  avatar: '', capabilities: '{"context_window": 4096}', default_settings: '{}',
  api_key_required: '1', is_active: '1',
});

test('an invalid model form comes back with the error next to its field and nothing saved', async () => {
  const res = await post('/chat/admin/catalog/new', { ...validForm(), capabilities: '[1, 2' });
  const html = assertHtml(res, 422);
  assert.match(html, /id="capabilities-error"[^>]*>capabilities must be a JSON object/);
  assert.match(html, /id="f-capabilities"[^>]*>\[1, 2<\/textarea>/, 'the typed value is kept');
  const rows = await sql(`SELECT 1 FROM ai_tools WHERE slug = :'p1'`, slug);
  assert.equal(rows.length, 0, 'nothing may be saved');

  const bad = assertHtml(await post('/chat/admin/catalog/new', { ...validForm(), provider: 'ghost' }), 422);
  assert.match(bad, /provider &#39;ghost&#39; is not configured/);
});

test('a valid model form creates the model, which users then see in the catalog', async () => {
  const res = await post('/chat/admin/catalog/new', validForm());
  assert.equal(res.status, 303);
  assert.equal(locationPath(res), '/chat/admin/catalog');
  const tool = assertJson(await api('GET', `/tools/${slug}`, DEMO), 200);
  assert.equal(tool.name, 'Page <b>model</b>');
  assert.equal(tool.display_name, 'Page <b>model</b>', 'an empty display name takes the name');
  assert.deepEqual(tool.capabilities, { context_window: 4096 });

  const list = assertHtml(await request('GET', '/chat/admin/catalog', { cookie }), 200);
  assert.ok(list.includes('Page &lt;b&gt;model&lt;/b&gt;'), 'the list shows the name escaped');
  assert.ok(!list.includes('<b>model</b>'), 'the name is never raw HTML');
});

test('the edit form shows the stored values; deactivating hides the model from users', async () => {
  const form = assertHtml(await request('GET', `/chat/admin/catalog/tools/${slug}`, { cookie }), 200);
  assert.match(form, new RegExp(`name="slug" value="${slug}"`));
  assert.match(form, /name="is_active" value="1" checked/);

  const unchecked = validForm();
  delete unchecked.is_active; // an unticked checkbox is not sent at all
  const saved = await post(`/chat/admin/catalog/tools/${slug}`, unchecked);
  assert.equal(saved.status, 303);
  assert.equal((await api('GET', `/tools/${slug}`, DEMO)).status, 404, 'an inactive model is gone for users');
  const [row] = await sql(`SELECT is_active FROM ai_tools WHERE slug = :'p1'`, slug);
  assert.equal(row[0], 'f');
});

test('categories are added and deleted from the catalog page', async () => {
  assert.equal((await post('/chat/admin/catalog/categories', { name: category, description: 'x' })).status, 303);
  const [[id]] = await sql(`SELECT id FROM categories WHERE name = :'p1'`, category);
  assert.ok(id, 'the category exists');
  assert.equal((await post(`/chat/admin/catalog/categories/${id}`, { action: 'delete' })).status, 303);
  assert.equal((await sql(`SELECT 1 FROM categories WHERE id = :'p1'`, id)).length, 0);
});

test('deleting a model from its page removes it', async () => {
  const res = await post(`/chat/admin/catalog/tools/${slug}`, { action: 'delete' });
  assert.equal(res.status, 303);
  assert.equal((await sql(`SELECT 1 FROM ai_tools WHERE slug = :'p1'`, slug)).length, 0);
});
