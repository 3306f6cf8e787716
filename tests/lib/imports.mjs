// Imports: upload a sample (bare or zipped), wait for its job, read what the
// database holds of the imported conversations.

import { readFileSync, mkdtempSync, rmSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { api } from './http.mjs';
import { sqlJson } from './db.mjs';
import { poll } from './poll.mjs';
import { ROOT } from './env.mjs';

export const SAMPLES = join(ROOT, 'tests', 'unit', 'samples', 'imports');

/** The bytes of a sample file. */
export function sample(name) {
  return readFileSync(join(SAMPLES, name));
}

/**
 * A ZIP (bytes) of files: { 'path/in/zip': Buffer | sample-relative path string }.
 * Built with Debian's zip in a temporary folder; with { ordered: true } its
 * members are in the object's order (else in the folder's, with folder entries).
 */
export function zipOf(files, { ordered = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'aichat-zip-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, 'in', dirname(path)), { recursive: true });
      if (typeof content === 'string') cpSync(join(SAMPLES, content), join(dir, 'in', path));
      else writeFileSync(join(dir, 'in', path), content);
    }
    const members = ordered ? Object.keys(files) : ['.'];
    execFileSync('zip', ['-qr', join(dir, 'x.zip'), ...members], { cwd: join(dir, 'in') });
    return readFileSync(join(dir, 'x.zip'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A zip bomb, built as a stream: conversations.json is "[", 100 MiB of
 * spaces and "]" (about 100 KB compressed, 1000 : 1).
 */
export function bombZip() {
  const dir = mkdtempSync(join(tmpdir(), 'aichat-bomb-'));
  try {
    execFileSync('sh', ['-c', `{ printf '['; head -c 104857600 /dev/zero | tr '\\0' ' '; printf ']'; } > conversations.json && zip -q x.zip conversations.json`], { cwd: dir });
    return readFileSync(join(dir, 'x.zip'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * POST /imports with the bytes as the body. Sent again once when the
 * connection failed before any answer (a kept-alive connection the server
 * closed meanwhile, as behind the two-node balancer): a browser does the same.
 */
export async function upload(auth, bytes, name, type = 'application/octet-stream') {
  const q = name ? `?name=${encodeURIComponent(name)}` : '';
  const send = () => api('POST', `/imports${q}`, { ...auth, raw: bytes, headers: { 'Content-Type': type } });
  try {
    return await send();
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return send();
  }
}

const FINAL = ['done', 'failed', 'cancelled'];

/**
 * The job once it has ended (or its last state after ~120 s). A read that
 * fails while httpd restarts (a dropped connection, the balancer's 502) is
 * read again.
 */
export async function finished(auth, id) {
  const res = await poll(
    () => api('GET', `/imports/${id}`, auth).catch(() => ({ status: 0 })),
    (r) => (r.status !== 200 && r.status !== 0 && r.status !== 502 && r.status !== 503) || FINAL.includes(r.json?.status),
    { tries: 1200, intervalMs: 100 },
  );
  return res.json;
}

/** Upload and wait: { res (the 202), job (ended) }. */
export async function imported(auth, bytes, name) {
  const res = await upload(auth, bytes, name);
  if (res.status !== 202) return { res, job: null };
  return { res, job: await finished(auth, res.json.id) };
}

/**
 * The user's imported conversations of a source, by external id:
 * { title, stored, active, bp, models (answers on the active path, in order) }.
 */
export async function trees(userId, source) {
  const rows = await sqlJson(
    `SELECT c.external_id, c.title, c.created_at, c.total_messages,
            (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS stored,
            (WITH RECURSIVE p AS (
               SELECT m.id, m.parent_message_id, m.sender_type, m.metadata, 0 AS n FROM messages m
                 WHERE m.id = c.active_leaf_id
               UNION ALL SELECT m.id, m.parent_message_id, m.sender_type, m.metadata, p.n + 1
                 FROM messages m JOIN p ON m.id = p.parent_message_id)
             SELECT json_build_object('n', count(*), 'models',
                      coalesce(json_agg(p.metadata->>'model' ORDER BY p.n DESC)
                               FILTER (WHERE p.sender_type = 'ai'), '[]'))
             FROM p) AS path,
            (SELECT count(*) FROM (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
               GROUP BY m.parent_message_id HAVING count(*) >= 2) b) AS bp
       FROM conversations c WHERE c.owner_id = :'p1' AND c.source = :'p2'
       ORDER BY c.external_id`,
    userId,
    source,
  );
  const out = {};
  for (const r of rows) {
    out[r.external_id] = {
      title: r.title,
      stored: r.stored,
      total: r.total_messages,
      active: r.path.n,
      bp: r.bp,
      models: r.path.models,
    };
  }
  return out;
}

/**
 * Like trees(), with more of each conversation: { title, stored, total,
 * active, bp, models (answers on the active path, in order), off (the other
 * answers' models, oldest first), leaf (the active leaf's external id),
 * first and last (its earliest and latest message times, ISO 8601 UTC with
 * microseconds), attachments and sources (counted over its messages) }.
 */
export async function treeDetails(userId, source) {
  const rows = await sqlJson(
    `SELECT c.external_id, c.title, c.total_messages AS total, s.stored, s.first, s.last,
            s.attachments, s.sources, path.n AS active, path.models, o.off, leaf.external_id AS leaf,
            b.bp
       FROM conversations c
       LEFT JOIN messages leaf ON leaf.id = c.active_leaf_id
       CROSS JOIN LATERAL (
         SELECT count(*) AS stored,
                to_char(min(m.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS first,
                to_char(max(m.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS last,
                coalesce(sum(jsonb_array_length(coalesce(m.metadata->'attachments', '[]'))), 0) AS attachments,
                coalesce(sum(jsonb_array_length(coalesce(m.metadata->'sources', '[]'))), 0) AS sources
           FROM messages m WHERE m.conversation_id = c.id) s
       CROSS JOIN LATERAL (
         WITH RECURSIVE p AS (
           SELECT m.id, m.parent_message_id, m.sender_type, m.metadata, 0 AS n FROM messages m
             WHERE m.id = c.active_leaf_id
           UNION ALL SELECT m.id, m.parent_message_id, m.sender_type, m.metadata, p.n + 1
             FROM messages m JOIN p ON m.id = p.parent_message_id)
         SELECT count(*) AS n,
                coalesce(json_agg(p.metadata->>'model' ORDER BY p.n DESC)
                         FILTER (WHERE p.sender_type = 'ai'), '[]') AS models,
                coalesce(array_agg(p.id), '{}') AS ids
           FROM p) path
       CROSS JOIN LATERAL (
         SELECT coalesce(json_agg(m.metadata->>'model' ORDER BY m.created_at, m.external_id), '[]') AS off
           FROM messages m
          WHERE m.conversation_id = c.id AND m.sender_type = 'ai' AND m.id <> ALL (path.ids)) o
       CROSS JOIN LATERAL (
         SELECT count(*) AS bp FROM (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
           GROUP BY m.parent_message_id HAVING count(*) >= 2) x) b
      WHERE c.owner_id = :'p1' AND c.source = :'p2'
      ORDER BY c.external_id`,
    userId,
    source,
  );
  const out = {};
  for (const r of rows) {
    const { external_id: id, ...rest } = r;
    out[id] = rest;
  }
  return out;
}
