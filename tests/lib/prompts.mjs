// Favourite prompts and templates for the integration tests: shape
// assertions, a template body to start from, and the requests most tests make.

import assert from 'node:assert/strict';
import { api } from './http.mjs';
import { sqlJson } from './db.mjs';
import { assertJson, UUID_RE } from './assert.mjs';

const isTimestamp = (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/** A prompt: every field with its type. */
export function assertPromptShape(p, what = 'prompt') {
  const show = JSON.stringify(p);
  assert.match(p.id, UUID_RE, `${what}.id: ${show}`);
  assert.equal(typeof p.title, 'string', `${what}.title: ${show}`);
  assert.equal(typeof p.text, 'string', `${what}.text: ${show}`);
  assert.ok(Array.isArray(p.tools), `${what}.tools: ${show}`);
  for (const t of p.tools) {
    assert.equal(typeof t.slug, 'string', `${what}.tools[].slug: ${show}`);
    assert.equal(typeof t.display_name, 'string', `${what}.tools[].display_name: ${show}`);
  }
  assert.ok(isTimestamp(p.created_at) && isTimestamp(p.updated_at), `${what} timestamps: ${show}`);
}

const TEMPLATE_FIELDS = [
  'id', 'name', 'description', 'category', 'content', 'system_prompt', 'model', 'model_display_name',
  'variables', 'is_public', 'usage_count', 'version', 'copied_from', 'owner', 'is_owner', 'created_at',
  'updated_at', 'deleted_at',
];

/** A template: every field with its type. */
export function assertTemplateShape(t, what = 'template') {
  const show = JSON.stringify(t);
  for (const key of TEMPLATE_FIELDS) assert.ok(key in t, `${what} lacks "${key}": ${show}`);
  assert.match(t.id, UUID_RE, `${what}.id: ${show}`);
  for (const key of ['name', 'description', 'category', 'content']) {
    assert.equal(typeof t[key], 'string', `${what}.${key}: ${show}`);
  }
  assert.ok(t.system_prompt === null || typeof t.system_prompt === 'string', `${what}.system_prompt: ${show}`);
  assert.ok(t.model === null || typeof t.model === 'string', `${what}.model: ${show}`);
  assert.ok(Array.isArray(t.variables), `${what}.variables: ${show}`);
  assert.equal(typeof t.is_public, 'boolean', `${what}.is_public: ${show}`);
  assert.ok(Number.isInteger(t.usage_count) && t.usage_count >= 0, `${what}.usage_count: ${show}`);
  assert.ok(Number.isInteger(t.version) && t.version >= 1, `${what}.version: ${show}`);
  assert.equal(typeof t.owner?.username, 'string', `${what}.owner: ${show}`);
  assert.equal(typeof t.is_owner, 'boolean', `${what}.is_owner: ${show}`);
  assert.ok(t.deleted_at === null || isTimestamp(t.deleted_at), `${what}.deleted_at: ${show}`);
}

/** A template body with one required text variable, {{topic}}, and a choice with a default. */
export function templateBody(tag, extra = {}) {
  return {
    name: `Essay ${tag}`,
    description: `An essay plan (${tag})`,
    category: `cat-${tag}`,
    content: 'Write a {{length}} essay about {{topic}}.',
    variables: [
      { name: 'topic', type: 'text', required: true },
      { name: 'length', type: 'choice', options: ['short', 'long'], default: 'short' },
    ],
    ...extra,
  };
}

/** POST /templates that must succeed: the template (shape asserted). */
export async function createTemplate(auth, body) {
  const res = await api('POST', '/templates', { ...auth, body });
  const t = assertJson(res, 201);
  assertTemplateShape(t, `${res.label} answer`);
  return t;
}

/** POST /prompts that must succeed: the prompt (shape asserted). */
export async function createPrompt(auth, body) {
  const res = await api('POST', '/prompts', { ...auth, body });
  const p = assertJson(res, 201);
  assertPromptShape(p, `${res.label} answer`);
  return p;
}

/** The templates row as stored. */
export async function dbTemplate(id) {
  return (await sqlJson('SELECT * FROM templates WHERE id = :\'p1\'', id))[0];
}
