// Templates: created with typed variables, private or public; each change a
// new version with its note, older versions read and restored; used (the
// filled prompt, or a sent message that records the template version, with
// the template's system prompt); usage counted atomically; soft deleted and
// restored; the gallery (search, category, sort, pages), copies and an
// administrator's unpublish; every validation error names its field.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from '../lib/http.mjs';
import { sqlJson, sqlValue } from '../lib/db.mjs';
import { assertError, assertJson, assertStatus } from '../lib/assert.mjs';
import { auditRow } from '../lib/audit.mjs';
import { ChatFixture, mockLast, mockReply, say, thread, upstreamSystem, upstreamTurns } from '../lib/chat.mjs';
import { ADMIN, DEMO } from '../lib/users.mjs';
import { assertTemplateShape, createTemplate, dbTemplate, templateBody } from '../lib/prompts.mjs';

const fx = new ChatFixture('tpl');
const tag = fx.tag;
let owner;
let other;
let model;

before(async () => {
  [owner, other] = await Promise.all([fx.user({ prefix: 'tpl' }), fx.user({ prefix: 'tplo' })]);
  model = await fx.model();
});

after(async () => {
  await fx.cleanup();
});

const use = (auth, id, body) => api('POST', `/templates/${id}/use`, { ...auth, body });

describe('create and read', () => {
  test('a template is stored with its variables normalised, as version 1', async () => {
    const res = await api('POST', '/templates', {
      ...owner,
      body: templateBody(tag, {
        system_prompt: 'You write essays.',
        model: model.slug,
        variables: [
          { name: 'topic', type: 'text', required: true },
          { name: 'length', type: 'choice', options: ['short', 'long'], default: 'short' },
        ],
      }),
    });
    const t = assertJson(res, 201);
    assertTemplateShape(t);
    assert.equal(t.version, 1);
    assert.equal(t.usage_count, 0);
    assert.equal(t.is_public, false);
    assert.equal(t.is_owner, true);
    assert.equal(t.owner.username, owner.user);
    assert.equal(t.model, model.slug);
    assert.equal(t.system_prompt, 'You write essays.');
    assert.deepEqual(t.variables, [
      { name: 'topic', type: 'text', required: true, default: null, options: null, min: null, max: null },
      { name: 'length', type: 'choice', required: false, default: 'short', options: ['short', 'long'], min: null, max: null },
    ]);
    const row = await auditRow(res);
    assert.equal(row.action, 'create');
    assert.equal(row.entity_type, 'template');
    assert.equal(row.entity_id, t.id);
    assert.deepEqual(assertJson(await api('GET', `/templates/${t.id}`, owner), 200), t);
    const versions = assertJson(await api('GET', `/templates/${t.id}/versions`, owner), 200).items;
    assert.deepEqual(versions.map((v) => [v.version, v.note]), [[1, 'Created']]);
  });

  test('a private template is 404 to everyone else; a public one can be read and used, not changed', async () => {
    const t = await createTemplate(owner, templateBody(tag));
    for (const [method, path, body] of [
      ['GET', `/templates/${t.id}`],
      ['PATCH', `/templates/${t.id}`, { name: 'taken' }],
      ['DELETE', `/templates/${t.id}`],
      ['GET', `/templates/${t.id}/versions`],
      ['GET', `/templates/${t.id}/versions/1`],
      ['POST', `/templates/${t.id}/use`, { values: { topic: 'x' } }],
      ['POST', `/templates/${t.id}/preview`, { values: { topic: 'x' } }],
      ['POST', `/templates/${t.id}/copy`],
    ]) {
      assertError(await api(method, path, { ...other, body }), 404, 'not_found');
    }
    assertJson(await api('PATCH', `/templates/${t.id}`, { ...owner, body: { is_public: true } }), 200);
    const seen = assertJson(await api('GET', `/templates/${t.id}`, other), 200);
    assert.equal(seen.is_owner, false);
    assert.equal(assertJson(await use(other, t.id, { values: { topic: 'tea' } }), 200).prompt, 'Write a short essay about tea.');
    assertError(await api('PATCH', `/templates/${t.id}`, { ...other, body: { name: 'taken' } }), 404, 'not_found');
    assertError(await api('DELETE', `/templates/${t.id}`, other), 404, 'not_found');
    assertError(await api('GET', `/templates/${t.id}/versions`, other), 404, 'not_found');
    assert.equal((await dbTemplate(t.id)).name, t.name);
    const mine = assertJson(await api('GET', '/templates', other), 200);
    assert.ok(!mine.items.some((x) => x.id === t.id), 'another user\'s template in my list');
  });
});

describe('versions', () => {
  test('each change is a new version with its note; is_public alone makes none; an old version is restored as a new one', async () => {
    const t = await createTemplate(owner, templateBody(tag));
    const res = await api('PATCH', `/templates/${t.id}`, {
      ...owner,
      body: {
        content: 'Write a {{length}} essay about {{topic}} for {{reader}}.',
        variables: [...t.variables, { name: 'reader', type: 'text', default: 'children' }],
        note: 'Adds the reader',
      },
    });
    const v2 = assertJson(res, 200);
    assert.equal(v2.version, 2);
    const row = await auditRow(res);
    assert.equal(row.action, 'update');
    assert.equal(row.old_values.version, 1);
    assert.equal(row.new_values.version, 2);

    const pub = assertJson(await api('PATCH', `/templates/${t.id}`, { ...owner, body: { is_public: true, note: 'ignored' } }), 200);
    assert.equal(pub.version, 2, 'publishing made a version');
    assert.equal(pub.is_public, true);
    const same = assertJson(await api('PATCH', `/templates/${t.id}`, { ...owner, body: { name: t.name } }), 200);
    assert.equal(same.version, 2, 'an unchanged name made a version');

    const list = assertJson(await api('GET', `/templates/${t.id}/versions`, owner), 200).items;
    assert.deepEqual(list.map((v) => [v.version, v.note]), [[2, 'Adds the reader'], [1, 'Created']]);
    assert.equal(list[1].content, t.content);
    assert.equal(list[0].created_by, owner.user);
    const one = assertJson(await api('GET', `/templates/${t.id}/versions/1`, owner), 200);
    assert.equal(one.content, t.content);
    assert.deepEqual(one.variables, t.variables);
    assertError(await api('GET', `/templates/${t.id}/versions/9`, owner), 404, 'not_found');
    assertError(await api('GET', `/templates/${t.id}/versions/0`, owner), 404, 'not_found');
    assertError(await api('GET', `/templates/${t.id}/versions/x`, owner), 404, 'not_found');

    const restoreRes = await api('POST', `/templates/${t.id}/versions/1/restore`, owner);
    const v3 = assertJson(restoreRes, 200);
    assert.equal(v3.version, 3);
    assert.equal(v3.content, t.content);
    assert.deepEqual(v3.variables, t.variables);
    assert.equal(v3.is_public, true, 'restoring a version unpublished it');
    assert.equal((await auditRow(restoreRes)).action, 'restore_version');
    const after = assertJson(await api('GET', `/templates/${t.id}/versions`, owner), 200).items;
    assert.deepEqual(after.map((v) => [v.version, v.note]), [[3, 'Restored version 1'], [2, 'Adds the reader'], [1, 'Created']]);
    assert.equal(assertJson(await api('POST', `/templates/${t.id}/versions/2/restore`, { ...owner, body: { note: 'Back to 2' } }), 200).version, 4);
    assert.equal(assertJson(await api('GET', `/templates/${t.id}/versions/4`, owner), 200).note, 'Back to 2');
  });
});

describe('use', () => {
  test('use fills the template and counts; preview fills and counts nothing', async () => {
    const t = await createTemplate(owner, templateBody(tag, { system_prompt: 'Be brief.', model: model.slug }));
    const prev = assertJson(await api('POST', `/templates/${t.id}/preview`, { ...owner, body: { values: { topic: 'owls', length: 'long' } } }), 200);
    assert.equal(prev.prompt, 'Write a long essay about owls.');
    assert.equal((await dbTemplate(t.id)).usage_count, 0);
    const used = assertJson(await use(owner, t.id, { values: { topic: 'owls' } }), 200);
    assert.equal(used.prompt, 'Write a short essay about owls.');
    assert.equal(used.system_prompt, 'Be brief.');
    assert.equal(used.model, model.slug);
    assert.deepEqual(used.template, { id: t.id, version: 1, name: t.name });
    assert.equal(used.usage_count, 1);
    assert.equal((await dbTemplate(t.id)).usage_count, 1);
  });

  test('values are checked: each problem names its variable and counts no use', async () => {
    const t = await createTemplate(owner, templateBody(tag, {
      content: '{{topic}} {{length}} {{n}} {{ok}}',
      variables: [
        { name: 'topic', type: 'text', required: true },
        { name: 'length', type: 'choice', options: ['short', 'long'] },
        { name: 'n', type: 'number', min: 1, max: 5 },
        { name: 'ok', type: 'boolean' },
      ],
    }));
    const cases = [
      [{}, 'missing_value', 'values.topic'],
      [{ topic: '   ' }, 'missing_value', 'values.topic'],
      [{ topic: 'a', length: 'medium' }, 'invalid_field', 'values.length'],
      [{ topic: 'a', n: 6 }, 'invalid_field', 'values.n'],
      [{ topic: 'a', n: 'many' }, 'invalid_field', 'values.n'],
      [{ topic: 'a', ok: 'yes' }, 'invalid_field', 'values.ok'],
      [{ topic: 'a\nb' }, 'invalid_field', 'values.topic'],
      [{ topic: 'a', colour: 'red' }, 'invalid_field', 'values.colour'],
    ];
    for (const [values, code, field] of cases) {
      const res = await use(owner, t.id, { values });
      assertError(res, 422, code, field);
      if (code === 'missing_value') assert.match(res.json.error.message, /topic/);
    }
    assertError(await use(owner, t.id, { values: [] }), 422, 'invalid_field', 'values');
    assertError(await use(owner, t.id, { values: { topic: 'a' }, conversation_id: 'x' }), 422, 'invalid_field', 'conversation_id');
    assertError(await use(owner, t.id, { values: { topic: 'a' }, extra: 1 }), 422, 'unknown_field', 'extra');
    assert.equal((await dbTemplate(t.id)).usage_count, 0);
    const ok = assertJson(await use(owner, t.id, { values: { topic: '{{n}}', n: '2', ok: true } }), 200);
    assert.equal(ok.prompt, '{{n}}  2 yes', 'a value was read as template syntax');
  });

  test('fifty concurrent uses raise usage_count by exactly fifty', async () => {
    const t = await createTemplate(owner, templateBody(tag, { is_public: true }));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => use(i % 2 ? owner : other, t.id, { values: { topic: `t${i}` } })),
    );
    results.forEach((res) => assertStatus(res, 200));
    assert.equal((await dbTemplate(t.id)).usage_count, 50);
    assert.equal(assertJson(await api('GET', `/templates/${t.id}`, owner), 200).usage_count, 50);
  });

  test('a message sent from a template records the template and the version it used, with its system prompt', async () => {
    const t = await createTemplate(owner, templateBody(tag, { system_prompt: `Template system ${tag}` }));
    const conv = await fx.conversation(owner, [model], { system_prompt: 'Conversation system' });
    const res = await use(owner, t.id, { values: { topic: `bees ${tag}` }, conversation_id: conv.id });
    const body = assertJson(res, 201);
    const prompt = `Write a short essay about bees ${tag}.`;
    assert.equal(body.user_message.content, prompt);
    assert.deepEqual(body.user_message.template, { id: t.id, version: 1, name: t.name });
    assert.equal(body.answers[0].content, mockReply(prompt));
    const last = await mockLast(model.kind, `bees ${tag}`);
    assert.equal(upstreamSystem(model.kind, last.body), `Template system ${tag}`);
    assert.equal((await dbTemplate(t.id)).usage_count, 1);

    // A plain message after it records no template, and gets the conversation's system prompt.
    const plain = await say(owner, conv.id, `plain ${tag}`);
    assert.equal(plain.user_message.template, null);
    assert.equal(upstreamSystem(model.kind, (await mockLast(model.kind, `plain ${tag}`)).body), 'Conversation system');

    // A new version: the next message records it, the first keeps version 1.
    assertJson(await api('PATCH', `/templates/${t.id}`, { ...owner, body: { content: 'Essay on {{topic}}, {{length}}.' } }), 200);
    const second = assertJson(await use(owner, t.id, { values: { topic: 'wasps' }, conversation_id: conv.id }), 201);
    assert.deepEqual(second.user_message.template, { id: t.id, version: 2, name: t.name });
    assert.deepEqual(upstreamTurns(model.kind, (await mockLast(model.kind, 'wasps')).body).at(-1), { role: 'user', text: 'Essay on wasps, short.' });
    const items = await thread(owner, conv.id);
    const sent = items.filter((m) => m.template);
    assert.deepEqual(sent.map((m) => m.template.version), [1, 2]);
    const stored = await sqlJson(
      `SELECT v.version FROM messages m JOIN template_versions v ON v.id = m.template_version_id
        WHERE m.conversation_id = :'p1' ORDER BY m.created_at`, conv.id);
    assert.deepEqual(stored.map((r) => r.version), [1, 2]);
    assert.equal((await dbTemplate(t.id)).usage_count, 2);

    // Deleted, the template is gone for use; the messages keep their record.
    assertStatus(await api('DELETE', `/templates/${t.id}`, owner), 204);
    assertError(await use(owner, t.id, { values: { topic: 'x' }, conversation_id: conv.id }), 404, 'not_found');
    assert.deepEqual((await thread(owner, conv.id)).filter((m) => m.template).map((m) => m.template.version), [1, 2]);
  });

  test('a use in a conversation the user may not see is 404, and counts nothing', async () => {
    const t = await createTemplate(owner, templateBody(tag));
    const theirs = await fx.conversation(other, [model]);
    assertError(await use(owner, t.id, { values: { topic: 'x' }, conversation_id: theirs.id }), 404, 'not_found');
    assertError(await use(owner, t.id, { values: { topic: 'x' }, conversation_id: randomUUID() }), 404, 'not_found');
    assert.equal((await dbTemplate(t.id)).usage_count, 0);
    assert.equal(await sqlValue(`SELECT count(*) FROM messages WHERE conversation_id = :'p1'`, theirs.id), '0');
  });

  test('a use streamed into a conversation sends the turn as events', async () => {
    const t = await createTemplate(owner, templateBody(tag));
    const conv = await fx.conversation(owner, [model]);
    const res = await api('POST', `/templates/${t.id}/use`, {
      ...owner,
      body: { values: { topic: `stream ${tag}` }, conversation_id: conv.id, stream: true },
    });
    assertStatus(res, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    assert.match(res.text, /event: start/);
    assert.match(res.text, /event: end/);
    const items = await thread(owner, conv.id);
    assert.equal(items[0].template.id, t.id);
  });
});

describe('delete and restore', () => {
  test('a deleted template leaves the gallery, the list and others\' reach, and comes back when restored', async () => {
    const t = await createTemplate(owner, templateBody(tag, { is_public: true, category: `del-${tag}` }));
    const inGallery = async () => assertJson(await api('GET', `/templates/gallery?category=del-${tag}`, other), 200).items.map((x) => x.id);
    assert.deepEqual(await inGallery(), [t.id]);

    const del = await api('DELETE', `/templates/${t.id}`, owner);
    assertStatus(del, 204);
    const row = await auditRow(del);
    assert.equal(row.action, 'delete');
    assert.ok(row.new_values.deleted_at);
    assert.deepEqual(await inGallery(), []);
    assertError(await api('GET', `/templates/${t.id}`, other), 404, 'not_found');
    assertError(await use(other, t.id, { values: { topic: 'x' } }), 404, 'not_found');
    assertError(await api('PATCH', `/templates/${t.id}`, { ...owner, body: { name: 'x' } }), 404, 'not_found');
    assert.ok(assertJson(await api('GET', `/templates/${t.id}`, owner), 200).deleted_at, 'the owner sees it as deleted');
    assert.ok(!assertJson(await api('GET', '/templates', owner), 200).items.some((x) => x.id === t.id));
    assert.ok(assertJson(await api('GET', '/templates?deleted=true', owner), 200).items.some((x) => x.id === t.id));
    assertError(await api('POST', `/templates/${t.id}/restore`, other), 404, 'not_found');

    const res = await api('POST', `/templates/${t.id}/restore`, owner);
    const back = assertJson(res, 200);
    assert.equal(back.deleted_at, null);
    assert.equal((await auditRow(res)).action, 'restore');
    assert.deepEqual(await inGallery(), [t.id]);
    assertError(await api('POST', `/templates/${t.id}/restore`, owner), 404, 'not_found');
  });
});

describe('gallery', () => {
  const cat = `gal-${tag}`;
  let a;
  let b;
  let c;

  before(async () => {
    a = await createTemplate(owner, templateBody(`${tag} alpha`, { category: cat, is_public: true, description: 'About owls' }));
    b = await createTemplate(other, templateBody(`${tag} beta`, { category: cat, is_public: true, description: 'About bees' }));
    c = await createTemplate(owner, templateBody(`${tag} gamma`, { category: cat, is_public: true, description: 'About owls and bees' }));
    await createTemplate(owner, templateBody(`${tag} private`, { category: cat }));
    for (let i = 0; i < 3; i++) assertStatus(await use(owner, b.id, { values: { topic: 'x' } }), 200);
    assertStatus(await use(owner, a.id, { values: { topic: 'x' } }), 200);
  });

  const gallery = async (query, auth = DEMO) => {
    const res = await api('GET', `/templates/gallery?${new URLSearchParams(query)}`, auth);
    const body = assertJson(res, 200);
    body.items.forEach((t, i) => assertTemplateShape(t, `gallery item ${i}`));
    return body;
  };

  test('everyone\'s public templates, by use or newest, never a private one', async () => {
    assert.deepEqual((await gallery({ category: cat })).items.map((t) => t.id), [b.id, a.id, c.id]);
    assert.deepEqual((await gallery({ category: cat, sort: 'use' })).items.map((t) => t.id), [b.id, a.id, c.id]);
    assert.deepEqual((await gallery({ category: cat, sort: 'newest' })).items.map((t) => t.id), [c.id, b.id, a.id]);
  });

  test('search by name and description', async () => {
    assert.deepEqual((await gallery({ category: cat, q: 'owls' })).items.map((t) => t.id), [a.id, c.id]);
    assert.deepEqual((await gallery({ q: `${tag} beta` })).items.map((t) => t.id), [b.id]);
    assert.deepEqual((await gallery({ q: '%' })).items.filter((t) => t.category === cat), []);
  });

  test('pages follow the cursor to the end, each template once', async () => {
    for (const sort of ['use', 'newest']) {
      const first = await gallery({ category: cat, sort, limit: 2 });
      assert.equal(first.items.length, 2);
      assert.equal(typeof first.next, 'string');
      const second = await gallery({ category: cat, sort, limit: 2, after: first.next });
      assert.deepEqual(second.items.length, 1);
      assert.equal(second.next, null);
      assert.equal(new Set([...first.items, ...second.items].map((t) => t.id)).size, 3);
    }
    const used = await gallery({ category: cat, sort: 'use', limit: 2 });
    assertError(await api('GET', `/templates/gallery?sort=newest&after=${used.next}`, DEMO), 422, 'invalid_field', 'after');
  });

  test('categories with their counts', async () => {
    const cats = assertJson(await api('GET', '/templates/gallery/categories', DEMO), 200).items;
    assert.deepEqual(cats.find((x) => x.name === cat), { name: cat, count: 3 });
  });

  test('bad gallery queries name their field', async () => {
    assertError(await api('GET', '/templates/gallery?sort=best', DEMO), 422, 'invalid_field', 'sort');
    assertError(await api('GET', '/templates/gallery?limit=0', DEMO), 422, 'invalid_field', 'limit');
    assertError(await api('GET', '/templates/gallery?after=zz', DEMO), 422, 'invalid_field', 'after');
    assertError(await api('GET', `/templates/gallery?q=${'x'.repeat(201)}`, DEMO), 422, 'invalid_field', 'q');
  });

  test('a public template is copied into a private one of one\'s own', async () => {
    const res = await api('POST', `/templates/${b.id}/copy`, owner);
    const copy = assertJson(res, 201);
    assertTemplateShape(copy);
    assert.notEqual(copy.id, b.id);
    assert.equal(copy.copied_from, b.id);
    assert.equal(copy.is_public, false);
    assert.equal(copy.owner.username, owner.user);
    assert.equal(copy.content, b.content);
    assert.deepEqual(copy.variables, b.variables);
    assert.equal(copy.usage_count, 0);
    assert.equal(copy.version, 1);
    assert.equal((await auditRow(res)).action, 'copy');
    const versions = assertJson(await api('GET', `/templates/${copy.id}/versions`, owner), 200).items;
    assert.match(versions[0].note, new RegExp(`Copied from ${other.user}`));
    assertJson(await api('PATCH', `/templates/${copy.id}`, { ...owner, body: { name: 'My copy' } }), 200);
    assert.equal((await dbTemplate(b.id)).name, b.name, 'changing the copy changed the original');
  });

  test('an administrator unpublishes a template (audited); others may not', async () => {
    assertError(await api('POST', `/admin/templates/${c.id}/unpublish`, other), 403, 'forbidden');
    const res = await api('POST', `/admin/templates/${c.id}/unpublish`, ADMIN);
    const out = assertJson(res, 200);
    assert.equal(out.is_public, false);
    const row = await auditRow(res);
    assert.equal(row.action, 'unpublish');
    assert.equal(row.entity_type, 'template');
    assert.equal(row.entity_id, c.id);
    assert.equal(row.username, 'admin');
    assert.deepEqual((await gallery({ category: cat })).items.map((t) => t.id), [b.id, a.id]);
    assertError(await api('GET', `/templates/${c.id}`, other), 404, 'not_found');
    assertError(await api('POST', `/admin/templates/${c.id}/unpublish`, ADMIN), 404, 'not_found');
  });
});

describe('validation', () => {
  const cases = [
    ['no name', { name: undefined }, 'invalid_field', 'name'],
    ['no content', { content: undefined }, 'invalid_field', 'content'],
    ['a name of two lines', { name: 'a\nb' }, 'invalid_field', 'name'],
    ['a name too long', { name: 'n'.repeat(201) }, 'invalid_field', 'name'],
    ['a description too long', { description: 'd'.repeat(2001) }, 'invalid_field', 'description'],
    ['an empty category', { category: '' }, 'invalid_field', 'category'],
    ['a category too long', { category: 'c'.repeat(51) }, 'invalid_field', 'category'],
    ['an unclosed {{', { content: 'Write {{topic' }, 'invalid_field', 'content'],
    ['an unknown variable', { content: '{{topic}} {{length}} {{who}}' }, 'invalid_field', 'content'],
    ['an unused variable', { content: '{{topic}}' }, 'invalid_field', 'variables[1].name'],
    ['variables that are not a list', { variables: {} }, 'invalid_field', 'variables'],
    ['a variable of an unknown type', { variables: [{ name: 'topic', type: 'date' }, { name: 'length', type: 'text' }] }, 'invalid_field', 'variables[0].type'],
    ['a variable declared twice', { variables: [{ name: 'topic', type: 'text' }, { name: 'topic', type: 'text' }] }, 'invalid_field', 'variables[1].name'],
    ['a choice without options', { variables: [{ name: 'topic', type: 'text' }, { name: 'length', type: 'choice' }] }, 'invalid_field', 'variables[1].options'],
    ['a default out of bounds', { content: '{{n}}', variables: [{ name: 'n', type: 'number', max: 3, default: 4 }] }, 'invalid_field', 'variables[0].default'],
    ['a system prompt that is not text', { system_prompt: 5 }, 'invalid_field', 'system_prompt'],
    ['a model that is not a slug', { model: 'Not a slug' }, 'invalid_field', 'model'],
    ['a model that does not exist', { model: 'no-such-model-anywhere' }, 'invalid_field', 'model'],
    ['is_public as a string', { is_public: 'yes' }, 'invalid_field', 'is_public'],
    ['a note too long', { note: 'n'.repeat(501) }, 'invalid_field', 'note'],
    ['an unknown field', { colour: 'red' }, 'unknown_field', 'colour'],
  ];

  for (const [what, change, code, field] of cases) {
    test(`a template with ${what} is refused (${field}) and nothing is stored`, async () => {
      const body = templateBody(`${tag} bad`, change);
      for (const key of Object.keys(change)) if (change[key] === undefined) delete body[key];
      const count = () => sqlValue(`SELECT count(*) FROM templates WHERE owner_id = :'p1'`, owner.id);
      const before = await count();
      assertError(await api('POST', '/templates', { ...owner, body }), 422, code, field);
      assert.equal(await count(), before);
    });
  }

  test('a refused change leaves the template and its versions as they were', async () => {
    const t = await createTemplate(owner, templateBody(tag));
    assertError(await api('PATCH', `/templates/${t.id}`, { ...owner, body: { name: 'New', content: '{{nope}}' } }), 422, 'invalid_field', 'content');
    assertError(await api('PATCH', `/templates/${t.id}`, { ...owner, body: { name: 'New', model: 'no-such-model-anywhere' } }), 422, 'invalid_field', 'model');
    const now = assertJson(await api('GET', `/templates/${t.id}`, owner), 200);
    assert.equal(now.name, t.name);
    assert.equal(now.version, 1);
    assert.equal(await sqlValue(`SELECT count(*) FROM template_versions WHERE template_id = :'p1'`, t.id), '1');
  });
});

test('the cap of 500 templates holds under concurrent creations at its edge', async () => {
  const user = await fx.user({ prefix: 'tplcap' });
  const create = (i) => () => api('POST', '/templates', { ...user, body: templateBody(`${tag} cap ${i}`) });
  const filled = [];
  for (let i = 0; i < 490; i += 10) {
    filled.push(...(await Promise.all(Array.from({ length: Math.min(10, 490 - i) }, (_, j) => create(i + j)()))));
  }
  assert.deepEqual([...new Set(filled.map((r) => r.status))], [201]);
  // Thirty at once for the last ten places.
  const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => create(490 + i)()));
  const created = burst.filter((r) => r.status === 201).length;
  for (const res of burst.filter((r) => r.status !== 201)) assertError(res, 409, 'too_many_templates');
  assert.equal(created, 10, `${created} of the 30 were created`);
  assert.equal(await sqlValue(`SELECT count(*) FROM templates WHERE owner_id = :'p1'`, user.id), '500');
  assertError(await api('POST', '/templates', { ...user, body: templateBody(`${tag} cap more`) }), 409, 'too_many_templates');
});
