// Whether a tool can be used now: "available" and its reason for tools on a
// provider without a key and on a provider the server does not configure;
// and GET /providers, which shows the configured providers but never a key.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sql } from '../lib/db.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { DEMO, ADMIN } from '../lib/users.mjs';
import { Catalog, assertToolShape, ids, listAllTools, listTools } from '../lib/catalog.mjs';
import { mockStats } from '../lib/chat.mjs';

// The test server's providers: all point at the mock provider; nokey has no key.
const WITH_KEY = ['openai', 'anthropic', 'google', 'meta', 'deepseek', 'qwen'];
const MOCK_KEY = 'mock-key';

const catalog = new Catalog('cata');
const tag = catalog.tag;
let keyed;      // openai, key required
let needsKey;   // nokey, key required
let keyless;    // nokey, no key required
let ghost;      // provider "ghost", which the server does not configure

before(async () => {
  keyed = await catalog.tool({ name: `av${tag}keyed`, provider: 'openai', api_key_required: true });
  needsKey = await catalog.tool({ name: `av${tag}needskey`, provider: 'nokey', api_key_required: true });
  keyless = await catalog.tool({ name: `av${tag}keyless`, provider: 'nokey', api_key_required: false });
  // The API refuses unknown providers, so a tool whose provider was removed
  // from the configuration is made in the database directly.
  ghost = await catalog.tool({ name: `av${tag}ghost`, provider: 'openai' });
  await sql(`UPDATE ai_tools SET provider = 'ghost' WHERE id = :'p1'`, ghost.id);
});

after(async () => {
  await catalog.cleanup();
});

async function getTool(slug, auth = DEMO) {
  const tool = assertJson(await api('GET', `/tools/${slug}`, auth), 200);
  assertToolShape(tool, `GET /tools/${slug}`);
  return tool;
}

test('a tool on a configured provider with a key is available', async () => {
  const tool = await getTool(keyed.slug);
  assert.equal(tool.available, true);
  assert.equal(tool.unavailable_reason, null);
});

test('a tool that needs a key on a provider without one is unavailable, saying so', async () => {
  const tool = await getTool(needsKey.slug);
  assert.equal(tool.available, false);
  assert.match(tool.unavailable_reason, /key/i);
});

test('a tool that needs no key is available on a provider without one', async () => {
  const tool = await getTool(keyless.slug);
  assert.equal(tool.available, true);
  assert.equal(tool.unavailable_reason, null);
});

test('a tool on a provider the server does not configure is unavailable, saying so', async () => {
  const tool = await getTool(ghost.slug);
  assert.equal(tool.provider, 'ghost');
  assert.equal(tool.available, false);
  assert.match(tool.unavailable_reason, /not configured/i);
});

test('the list shows the same availability as the tool itself, to users and administrators', async () => {
  for (const auth of [DEMO, ADMIN]) {
    const { items } = await listTools({ q: `av${tag}`, limit: 100 }, auth);
    assert.deepEqual(ids(items).sort(), [keyed.id, needsKey.id, keyless.id, ghost.id].sort(), `as ${auth.user}`);
    const by = Object.fromEntries(items.map((t) => [t.id, t]));
    assert.equal(by[keyed.id].available, true);
    assert.equal(by[needsKey.id].available, false);
    assert.match(by[needsKey.id].unavailable_reason ?? '', /key/i);
    assert.equal(by[keyless.id].available, true);
    assert.equal(by[ghost.id].available, false);
    assert.match(by[ghost.id].unavailable_reason ?? '', /not configured/i);
  }
});

test('availability changes with api_key_required', async () => {
  const res = await api('PATCH', `/admin/tools/${keyless.slug}`, { ...ADMIN, body: { api_key_required: true } });
  assert.equal(assertJson(res, 200).available, false);
  assert.equal((await getTool(keyless.slug)).available, false);
  const back = await api('PATCH', `/admin/tools/${keyless.slug}`, { ...ADMIN, body: { api_key_required: false } });
  assert.equal(assertJson(back, 200).available, true);
});

test('no tool response carries a provider key', async () => {
  const res = await api('GET', `/tools?q=av${tag}`, DEMO);
  assertJson(res, 200);
  assert.ok(!res.text.includes(MOCK_KEY), 'the provider key is in the tool list');
  const one = await api('GET', `/tools/${keyed.slug}`, DEMO);
  assert.ok(!one.text.includes(MOCK_KEY), 'the provider key is in a tool');
});

// --- providers ------------------------------------------------------------

async function providers(auth = DEMO) {
  const res = await api('GET', '/providers', auth);
  const body = assertJson(res, 200);
  assert.ok(Array.isArray(body.items), `items is not an array: ${res.text.slice(0, 300)}`);
  assert.ok(!res.text.includes(MOCK_KEY), `GET /providers shows the key: ${res.text.slice(0, 500)}`);
  for (const p of body.items) {
    const show = JSON.stringify(p);
    for (const key of ['name', 'kind', 'key_present', 'reachable']) assert.ok(key in p, `no "${key}" in ${show}`);
    // Where the upstreams live is shown to administrators only.
    assert.equal('host' in p, auth === ADMIN, `host ${auth === ADMIN ? 'missing from' : 'shown in'} ${show}`);
    for (const key of Object.keys(p)) {
      assert.ok(key === 'key_present' || !/key|secret|token|auth/i.test(key), `a provider shows "${key}": ${show}`);
    }
    assert.equal(typeof p.name, 'string');
    assert.ok(['openai', 'anthropic', 'gemini'].includes(p.kind), `unknown kind in ${show}`);
    if (auth === ADMIN) assert.ok(typeof p.host === 'string' && p.host !== '', `host of ${show}`);
    assert.equal(typeof p.key_present, 'boolean', `key_present of ${show}`);
    assert.equal(typeof p.reachable, 'boolean', `reachable of ${show}`);
  }
  return body.items;
}

test('GET /providers lists the configured providers and whether each has a key', async () => {
  const items = await providers();
  const names = items.map((p) => p.name);
  for (const name of [...WITH_KEY, 'nokey']) assert.ok(names.includes(name), `${name} is not in ${names}`);
  assert.ok(!names.includes('ghost'), 'a provider that is not configured is listed');
  assert.equal(new Set(names).size, names.length, 'a provider is listed twice');
  const by = Object.fromEntries(items.map((p) => [p.name, p]));
  for (const name of WITH_KEY) assert.equal(by[name].key_present, true, `${name} has a key`);
  assert.equal(by.nokey.key_present, false);
  assert.equal(by.nokey.kind, 'openai');
  assert.equal(by.openai.kind, 'openai');
  assert.equal(by.anthropic.kind, 'anthropic');
});

test('providers backed by the running mock provider are reachable', async () => {
  const by = Object.fromEntries((await providers()).map((p) => [p.name, p]));
  for (const name of WITH_KEY) assert.equal(by[name].reachable, true, `${name} is not reachable`);
});

test('the host of a provider is the host of its configured URL, without credentials', async () => {
  const by = Object.fromEntries((await providers(ADMIN)).map((p) => [p.name, p]));
  for (const p of Object.values(by)) assert.ok(!p.host.includes('@'), `host of ${p.name} has credentials: ${p.host}`);
  // Every test provider points at the mock provider.
  const mockHost = new URL(process.env.AICHAT_MOCK_URL ?? 'http://127.0.0.1/').hostname;
  for (const name of [...WITH_KEY, 'nokey']) assert.ok(by[name].host.includes(mockHost), `host of ${name}: ${by[name].host}`);
});

test('administrators see the same providers, still without keys', async () => {
  const mine = (await providers(DEMO)).map((p) => p.name).sort();
  const theirs = (await providers(ADMIN)).map((p) => p.name).sort();
  assert.deepEqual(theirs, mine);
});

test('users see no upstream hosts; administrators do', async () => {
  const res = await api('GET', '/providers', DEMO);
  assert.ok(!res.text.includes('127.0.0.1'), `a user sees where the upstreams are: ${res.text.slice(0, 500)}`);
  for (const p of await providers(ADMIN)) assert.ok(p.host, `no host for an administrator in ${JSON.stringify(p)}`);
});

// Probes go to the providers themselves: however many ask, from however many
// server processes, each provider is probed at most once a minute. Every test
// provider points at the mock, which counts the probes (HEAD /).
test('many requests for the providers probe each provider at most once a minute', async () => {
  const probes = async () => (await mockStats()).head?.['/'] ?? 0;
  const before = await probes();
  const listed = (await providers()).length;
  // Separate connections, so that every server process gets some.
  const burst = () => Promise.all(Array.from({ length: 24 }, () => api('GET', '/providers', { ...DEMO, headers: { Connection: 'close' } })));
  for (const res of [...(await burst()), ...(await burst())]) assertJson(res, 200);
  const made = (await probes()) - before;
  assert.ok(made <= listed, `${made} probes for ${listed} providers`);
});

test('providers need a signed-in user', async () => {
  assertError(await api('GET', '/providers'), 401, 'unauthenticated');
});

test('the provider filter finds tools on a provider without a key', async () => {
  const { items } = await listAllTools({ provider: 'nokey', q: `av${tag}`, limit: 100 });
  assert.deepEqual(ids(items).sort(), [needsKey.id, keyless.id].sort());
});
