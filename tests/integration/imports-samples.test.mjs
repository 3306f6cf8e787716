// Every sample of the reference (tests/unit/samples/imports, providers.md
// §8.2) uploaded bare and zipped (a folder zipped as the root of the
// archive, a Gemini file where a Takeout puts it): the conversations in the
// database with their titles, stored messages, branch points, active paths
// (length, leaf, models), the models off the path, attachments and sources,
// and the times of their first and last messages; the job's counts and
// skips. Imported again (the same file, then the other form of it), nothing
// is added.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sqlValue } from '../lib/db.mjs';
import { createUser } from '../lib/users.mjs';
import { imported, sample, treeDetails, zipOf } from '../lib/imports.mjs';

/** A conversation as treeDetails() reads it (total = stored; ChatGPT's sources are not in §8). */
function conv(title, stored, active, bp, models, off, leaf, first, last, { attachments = 0, sources = 0 } = {}) {
  return { title, stored, total: stored, active, bp, models, off, leaf, first, last, attachments, sources };
}

const GEMINI_ZIP = 'Takeout/My Activity/Gemini Apps/MyActivity.json';

// files: the samples uploaded bare, one upload each, under their own names;
// zip: the archive's members; skipped, warnings: of all the uploads of one
// form together; errors: [conversation, code] of each upload.
const SAMPLES = [
  {
    label: 'chatgpt-conversations.json',
    source: 'chatgpt',
    files: { 'conversations.json': 'chatgpt-conversations.json' },
    skipped: { system: 2, hidden: 1, empty: 1 },
    convs: {
      '666835e0-4a1f-800c-9d3e-5b7a8c9d0e1f': conv('Sourdough starter feeding schedule', 4, 4, 0,
        ['gpt-4o', 'gpt-4o'], [], '9a8b7c6d-5e4f-4321-b0a9-f8e7d6c5b4a3',
        '2024-06-10T10:00:00.412000Z', '2024-06-10T10:01:33.552200Z'),
      '6891b0a9-77c4-8331-a2e5-3f9d0c1b2a34': conv('SSE line endings', 5, 4, 1,
        ['gpt-4o', 'gpt-4o'], ['gpt-4o'], '3c4d5e6f-7a8b-4c9d-9e0f-1a2b3c4d5e6f',
        '2025-08-05T07:50:01.550000Z', '2025-08-05T07:51:42.250733Z'),
    },
  },
  {
    label: 'chatgpt-export/ (the 2026 split export)',
    source: 'chatgpt',
    files: {
      'conversations-000.json': 'chatgpt-export/conversations-000.json',
      'conversations-001.json': 'chatgpt-export/conversations-001.json',
    },
    zip: {
      'conversations-000.json': 'chatgpt-export/conversations-000.json',
      'conversations-001.json': 'chatgpt-export/conversations-001.json',
      'message_feedback.json': 'chatgpt-export/message_feedback.json',
    },
    skipped: { not_a_conversation: 1, system: 5, hidden: 1, empty: 1, non_text_content: 2, tool_call: 1, tool_message: 1 },
    feedback: 1, // linked in the ZIP, which holds message_feedback.json
    convs: {
      '67224c01-5d1c-800a-9f6e-2b7c4d1e8a30': conv('Kyoto in 3 days: itinerary', 6, 4, 1,
        ['gpt-4o', 'gpt-4o'], ['gpt-4o'], 'c4a9e2d7-8f1b-4a3c-b6e5-0d7f2c9a8e14',
        '2024-10-31T10:40:01.841207Z', '2024-10-31T10:43:25.273590Z'),
      '67d3ff41-0b8e-8003-a41c-6e2f9d7b5c18': conv('Regex for ISO-8601 dates', 5, 4, 1,
        ['gpt-4o', 'gpt-4o'], ['gpt-4o-mini'], '5a7c9e1b-3d5f-4a7c-8e9b-1d3f5a7c9e08',
        '2025-03-14T09:20:01.337211Z', '2025-03-14T09:21:51.482610Z'),
      '6851a2c7-3e9f-8001-b7d4-0c5e8a2f6b91': conv('Est-ce que ma mie est sous-fermentée ?', 4, 4, 0,
        ['gpt-4o', 'gpt-4o'], [], '6a8c0e2f-4b6d-4a9e-8c1a-3e5f7b9d1c62',
        '2025-06-14T14:48:08.204518Z', '2025-06-14T14:49:26.901230Z', { attachments: 3 }),
      '68c1b9e5-7a2d-8004-9f3b-1d6e0a8c4b27': conv('Monthly average from a CSV', 2, 2, 0,
        ['o3'], [], '7f37e9b1-3d5f-4a7c-99e1-b3d5f7a9c1e4',
        '2025-09-10T18:48:41.093384Z', '2025-09-10T18:48:54.662310Z'),
      '697f1a20-4c3b-8002-8e5d-7a9c1e3b5d60': conv('取引先へのお礼メール', 4, 4, 0,
        ['gpt-5', 'gpt-5-t-mini'], [], '05c7e9b1-d3f5-4a7c-a9e1-b3d5f7a9c1e3',
        '2026-02-02T06:42:43.781204Z', '2026-02-02T06:44:06.990120Z'),
    },
  },
  {
    label: 'claude-conversations.json',
    source: 'claude',
    files: { 'conversations.json': 'claude-conversations.json' },
    skipped: {},
    convs: {
      '3b1f9c6e-2d4a-4e8b-9f0c-7a6b5c4d3e2f': conv('Index for a created_at range query', 4, 4, 0,
        [null, null], [], '01970e2b-7a8b-7c9d-9e0f-1a2b3c4d5e6f',
        '2025-05-14T09:12:04.118203Z', '2025-05-14T09:15:47.903214Z', { attachments: 1 }),
    },
  },
  {
    label: 'claude-export/',
    source: 'claude',
    files: { 'conversations.json': 'claude-export/conversations.json' },
    skipped: {},
    convs: {
      '3b1f9c6e-2d4a-4e8b-9f0c-7a6b5c4d3e2f': conv('Loop over files with spaces in bash', 4, 4, 0,
        [null, null], [], '019a6f11-8c9d-7e0f-9a1b-2c3d4e5f6a7b',
        '2025-11-03T16:20:04.118902Z', '2025-11-03T16:21:47.903214Z'),
      '8e2d4c6a-1f3b-4d5e-9a7c-0b2d4f6a8c1e': conv('Kündigungsschreiben fürs Fitnessstudio', 8, 6, 1,
        [null, null, null], [null], '019ad8e9-4c5d-7e6f-9a7b-8c9d0e1f2a08',
        '2025-12-01T10:01:12.004417Z', '2025-12-01T10:09:57.633918Z'),
      'c5a7e9b1-d3f5-4a7c-9e1b-3d5f7a9c1e3b': conv("Here's my nginx config. Why does /api return 404?", 4, 4, 0,
        [null, null], [], '019bdc2d-7b8c-7d9e-9f0a-1b2c3d4e5f40',
        '2026-01-20T14:02:11.482915Z', '2026-01-20T14:05:42.880391Z', { attachments: 2, sources: 1 }),
    },
  },
  {
    label: 'gemini-takeout/MyActivity-a.json (shape A)',
    source: 'gemini',
    files: { 'MyActivity.json': 'gemini-takeout/MyActivity-a.json' },
    zip: { [GEMINI_ZIP]: 'gemini-takeout/MyActivity-a.json' },
    skipped: { not_a_prompt: 3 },
    convs: {
      '2026-03-05T19:40:52.604Z': conv('Compare TCP and UDP in a table', 2, 2, 0,
        [null], [], '2026-03-05T19:40:52.604Z#0a0', '2026-03-05T19:40:52.604000Z', '2026-03-05T19:40:52.604000Z'),
      '2026-03-03T21:07:33.950Z': conv("Écris un haïku sur la pluie d'automne à Paris", 3, 2, 1,
        [null], [null], '2026-03-03T21:07:33.950Z#0a1', '2026-03-03T21:07:33.950000Z', '2026-03-03T21:07:33.950000Z'),
      '2026-02-27T12:30:45.321Z': conv('How do I reverse a list in Python? Show two ways.', 2, 2, 0,
        [null], [], '2026-02-27T12:30:45.321Z#0a0', '2026-02-27T12:30:45.321000Z', '2026-02-27T12:30:45.321000Z'),
      '2026-02-20T09:01:12.004Z': conv('What is the total on this receipt?', 2, 2, 0,
        [null], [], '2026-02-20T09:01:12.004Z#0a0', '2026-02-20T09:01:12.004000Z', '2026-02-20T09:01:12.004000Z',
        { attachments: 1 }),
      '2026-02-11T16:20:00.500Z': conv('I need a polite but firm message to my landlord explaining that the heating in…', 2, 2, 0,
        [null], [], '2026-02-11T16:20:00.500Z#0a0', '2026-02-11T16:20:00.500000Z', '2026-02-11T16:20:00.500000Z'),
    },
  },
  {
    label: 'gemini-takeout/MyActivity-b.json (shape B)',
    source: 'gemini',
    files: { 'MyActivity.json': 'gemini-takeout/MyActivity-b.json' },
    zip: { [GEMINI_ZIP]: 'gemini-takeout/MyActivity-b.json' },
    skipped: { not_a_prompt: 1 },
    convs: {
      '5f2e9a7b31d04c68': conv('Hazme un plan de entrenamiento de 4 semanas para correr 10 km', 7, 6, 1,
        [null, null, null], [null], '2026-04-10T08:02:44.915Z#0a0',
        '2026-04-10T07:30:12.410000Z', '2026-04-10T08:02:44.915000Z'),
      'a81c0e44d2b7f913': conv('Explain ROW_NUMBER vs RANK in SQL', 4, 4, 0,
        [null, null], [], '2026-04-10T07:52:18Z#0a0', '2026-04-10T07:35:50.000000Z', '2026-04-10T07:52:18.000000Z'),
    },
  },
  {
    label: 'mistral-export/ (two chat files and the combined variant)',
    source: 'mistral',
    files: {
      'chat-6f0a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b.json': 'mistral-export/chat-6f0a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b.json',
      'chat-9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d.json': 'mistral-export/chat-9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d.json',
      'variant-combined.json': 'mistral-export/variant-combined.json',
    },
    skipped: { not_a_conversation: 3 },
    convs: {
      '6f0a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b': conv('Donne-moi une recette de pâte à crêpes pour 4 personnes.', 4, 4, 0,
        [null, null], [], '3', '2026-01-18T18:02:11.512000Z', '2026-01-18T18:05:43.611000Z'),
      '9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d': conv('Which HTTP methods are safe and which are idempotent according to RFC 9110?', 4, 4, 0,
        [null, null], [], '3', '2026-02-02T11:47:03.218000Z', '2026-02-02T11:49:18.562000Z', { sources: 3 }),
      'd3f1a5c7-e9b1-4d3f-a5c7-e9b1d3f5a7c9': conv('Idées de noms pour une boulangerie', 2, 2, 0,
        ['mistral-medium-2505'], [], '1', '2026-03-09T08:12:40.100000Z', '2026-03-09T08:12:43.870000Z'),
      'f5a7c9e1-b3d5-4f7a-9c1e-3b5d7f9a1c3e': conv('Regex pour un code postal français', 4, 4, 0,
        ['mistral-small-2503', 'mistral-small-2503'], [], '3', '2026-03-11T17:30:02.640000Z', '2026-03-11T17:31:23.955000Z'),
    },
  },
  {
    label: 'broken/chatgpt-missing-parent.json',
    source: 'chatgpt',
    files: { 'conversations.json': 'broken/chatgpt-missing-parent.json' },
    skipped: { system: 1 },
    warnings: { orphan_node: 1 },
    convs: {
      '68e2c3d4-e5f6-8007-b081-9c0d1e2f3a41': conv('Welsh greetings', 4, 2, 1,
        ['gpt-4o'], ['gpt-4o'], '5e6f7a8b-4444-4c9d-8e3f-4a5b6c7d8e9f',
        '2025-10-05T21:33:21.100000Z', '2025-10-05T21:34:02.600000Z'),
    },
  },
  {
    label: 'broken/chatgpt-cycle.json',
    source: 'chatgpt',
    files: { 'conversations.json': 'broken/chatgpt-cycle.json' },
    skipped: { system: 1 },
    errors: [['68e1b2c3-d4e5-8006-af70-8b9c0d1e2f30', 'tree_cycle']],
    convs: {
      '68e0a1b2-c3d4-8005-9e6f-7a8b9c0d1e2f': conv('Fine conversation', 2, 2, 0,
        ['gpt-4o'], [], '6c3d4e5f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
        '2025-10-03T14:00:03.500000Z', '2025-10-03T14:00:06.750000Z'),
    },
  },
];

/** The uploads of a sample in one form: [[bytes, name], ...]. */
function uploads(s, zipped) {
  if (zipped) return [[zipOf(s.zip ?? s.files), 'export.zip']];
  return Object.entries(s.files).map(([name, file]) => [sample(file), name]);
}

/** Add the counts of b to a. */
function addCounts(a, b) {
  for (const [k, v] of Object.entries(b ?? {})) a[k] = (a[k] ?? 0) + v;
  return a;
}

/** Upload each; every job done; the jobs' counts summed. */
async function importAll(user, list) {
  const sum = { created: 0, added: 0, skipped: {}, warnings: {}, errors: [], feedback: 0, formats: new Set() };
  for (const [bytes, name] of list) {
    const { res, job } = await imported(user, bytes, name);
    assert.equal(res.status, 202, `${name}: ${res.text}`);
    assert.equal(job?.status, 'done', `${name}: ${JSON.stringify(job)}`);
    sum.created += job.conversations_created;
    sum.added += job.messages_added;
    addCounts(sum.skipped, job.skipped);
    addCounts(sum.warnings, job.warnings);
    sum.errors.push(...job.errors.map((e) => [e.conversation, e.code]));
    sum.feedback += job.feedback_linked ?? 0;
    sum.formats.add(job.format);
  }
  return sum;
}

/** What treeDetails() should read (ChatGPT's sources left out: §8 does not count them). */
async function details(user, s) {
  const got = await treeDetails(user.id, s.source);
  if (s.source === 'chatgpt') for (const c of Object.values(got)) delete c.sources;
  return got;
}

function expected(s) {
  const out = structuredClone(s.convs);
  if (s.source === 'chatgpt') for (const c of Object.values(out)) delete c.sources;
  return out;
}

for (const s of SAMPLES) {
  test(`${s.label}: bare and zipped, the trees, active paths, models and times of §8.2; imported again, nothing added`, async () => {
    const stored = Object.values(s.convs).reduce((n, c) => n + c.stored, 0);
    const count = Object.keys(s.convs).length;
    for (const zipped of [false, true]) {
      const form = zipped ? 'zipped' : 'bare';
      const user = await createUser({ prefix: zipped ? 'impsz' : 'impsb' });
      const first = await importAll(user, uploads(s, zipped));
      assert.deepEqual([...first.formats], [s.source], form);
      assert.equal(first.created, count, form);
      assert.equal(first.added, stored, form);
      assert.deepEqual(first.skipped, addCounts({}, s.skipped), `${form}: skipped`);
      assert.deepEqual(first.warnings, addCounts({}, s.warnings), `${form}: warnings`);
      assert.deepEqual(first.errors, s.errors ?? [], `${form}: errors`);
      assert.equal(first.feedback, zipped ? s.feedback ?? 0 : 0, `${form}: feedback linked`);
      assert.deepEqual(await details(user, s), expected(s), form);

      // The same again, then the other form of it: nothing new.
      for (const again of [zipped, !zipped]) {
        const next = await importAll(user, uploads(s, again));
        const what = `${form}, then ${again ? 'zipped' : 'bare'}`;
        assert.equal(next.created, 0, what);
        assert.equal(next.added, 0, what);
        assert.deepEqual(next.errors, s.errors ?? [], what);
        assert.deepEqual(await details(user, s), expected(s), what);
      }
      assert.equal(await sqlValue(`SELECT count(*) FROM conversations WHERE owner_id = :'p1'`, user.id), String(count));
      assert.equal(
        await sqlValue(`SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.owner_id = :'p1'`, user.id),
        String(stored),
      );
    }
  });
}
