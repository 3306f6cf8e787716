// What the fault scenarios share: requests that never throw (every outcome is
// a record), the mixed load, the server's processes and memory, its busy
// workers, its error log, the checks of what the database kept, and the
// lines the suite prints. Set-up goes through the integration tests' helpers
// (tests/lib): users with scripts/aichat-user, models through the admin API.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { BASE_URL } from '../../tests/lib/env.mjs';
import { sqlJson } from '../../tests/lib/db.mjs';
import { SseParser, ChatFixture } from '../../tests/lib/chat.mjs';
import { shareConv } from '../../tests/lib/share.mjs';
import { ADMIN, createUser } from '../../tests/lib/users.mjs';

export const API = '/chat/api/v1';
const STATE = process.env.AICHAT_STATE;

// ---- printing ----------------------------------------------------------------

let failed = false;

/** Print a figure line of a scenario. */
export function figure(scenario, text) {
  console.log(`faults ${scenario}: ${text}`);
}

/** Print a figure against its target with PASS or FAIL; returns ok. */
export function verdict(scenario, text, ok) {
  console.log(`faults ${scenario}: ${text} ${ok ? 'PASS' : 'FAIL'}`);
  if (!ok) failed = true;
  return ok;
}

export function anyFailed() {
  return failed;
}

/** Counts by key, printed as {"key":n,...} largest first. */
export class Tally {
  constructor() {
    this.counts = new Map();
  }

  add(key, n = 1) {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  get(key) {
    return this.counts.get(key) ?? 0;
  }

  total() {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  toString() {
    return JSON.stringify(Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1])));
  }
}

/** The duration of a scenario: the variable's seconds, or the default. */
export function seconds(variable, fallback) {
  const value = Number(process.env[variable] ?? fallback);
  if (!(value > 0)) throw new Error(`${variable} must be a positive number of seconds`);
  return value;
}

export function count(variable, fallback) {
  const value = Number(process.env[variable] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${variable} must be a positive integer`);
  return value;
}

export const pct = (part, whole) => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`);

// ---- requests ------------------------------------------------------------------

function basic({ user, password }) {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/**
 * One request; never throws. Returns { op, method, path, t0, t1, status,
 * retryAfter, requestId, json, events, error }: status 0 and error (the
 * network error's code) when no answer came; events for an event stream
 * ([{event, json}]). options: auth, body, stream (ask for an event stream),
 * leave (close the connection after the first delta event), timeoutMs.
 */
export async function hit(op, method, path, { auth, body, stream = false, leave = false, timeoutMs = 90_000 } = {}) {
  const rec = { op, method, path, t0: Date.now(), status: 0, events: [] };
  const headers = {};
  if (auth) headers.Authorization = basic(auth);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (stream) headers.Accept = 'text/event-stream';
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), timeoutMs);
  try {
    const res = await fetch(BASE_URL + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: timer.signal,
      redirect: 'manual',
    });
    rec.status = res.status;
    rec.retryAfter = res.headers.get('retry-after');
    rec.requestId = res.headers.get('x-request-id');
    if (/^text\/event-stream/.test(res.headers.get('content-type') ?? '')) {
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const ev of parser.feed(decoder.decode(value, { stream: true }))) {
          let json;
          try {
            json = JSON.parse(ev.data);
          } catch {
            json = undefined;
          }
          rec.events.push({ event: ev.event, json, at: Date.now() });
        }
        if (leave && rec.events.some((e) => e.event === 'delta')) {
          // Cancelling the body closes the connection mid-answer.
          rec.left = Date.now();
          await reader.cancel();
          break;
        }
      }
    } else {
      const text = await res.text();
      try {
        rec.json = JSON.parse(text);
      } catch {
        rec.json = undefined;
      }
    }
  } catch (err) {
    rec.error = timer.signal.aborted ? 'client timeout' : (err.cause?.code ?? err.name ?? String(err));
  }
  clearTimeout(timeout);
  rec.t1 = Date.now();
  return rec;
}

/** A stream's failure: the code of its error event, or null. */
export function streamError(rec) {
  const ev = rec.events.find((e) => e.event === 'error');
  return ev ? (ev.json?.error?.code ?? 'error event') : null;
}

/** Whether a record is a success as its client sees it. */
export function succeeded(rec) {
  if (rec.status < 200 || rec.status > 399) return false;
  if (rec.op === 'stream') return !streamError(rec) && rec.events.some((e) => e.event === 'done');
  return true;
}

/** What a failed record was: "503 database_unavailable", "stream database_unavailable", "ECONNRESET". */
export function failureKind(rec) {
  if (rec.status === 0) return rec.error;
  if (rec.status >= 200 && rec.status < 400) return `stream ${streamError(rec) ?? 'without done'}`;
  return `${rec.status} ${rec.json?.error?.code ?? ''}`.trim();
}

// ---- set-up ----------------------------------------------------------------------

/**
 * Users, models and a public share for a scenario (its name prefixes
 * everything): { fx, users, fast, paced, share }. Users have plenty of
 * credits; `fast` answers at once, `paced` streams 25 words in half a second.
 */
export async function setup(name, userCount) {
  const fx = new ChatFixture(`faults-${name}`);
  const users = [];
  for (let i = 0; i < userCount; i++) {
    const user = await createUser({ prefix: `faults_${name}` });
    // Through the admin API: the grant is ledgered like any.
    const grant = await hit('grant', 'POST', `${API}/admin/users/${user.id}/credits`,
      { auth: ADMIN, body: { amount: 100_000_000 } });
    if (grant.status !== 200) throw new Error(`granting credits: ${grant.status} ${JSON.stringify(grant.json)}`);
    users.push(user);
  }
  const fast = await fx.model({ provider: 'openai', maxTokens: 64 });
  const paced = await fx.model({ provider: 'openai', switches: 'rate=50;tokens=25', maxTokens: 64 });
  const shared = await fx.conversation(users[0], [fast], { title: 'faults share' });
  await hit('seed', 'POST', `${API}/conversations/${shared.id}/messages`,
    { auth: users[0], body: { content: 'A question worth **sharing**', stream: false } });
  const share = await shareConv(users[0], shared.id, { is_public: true });
  return { fx, users, fast, paced, share };
}

// ---- the mixed load ------------------------------------------------------------------

/** The operations of the mixed load and their weights. */
const MIX = [['send', 3], ['stream', 2], ['share', 2.5], ['catalog', 2.5]];
const SENDS_PER_CONVERSATION = 8;

function pick(random) {
  const total = MIX.reduce((s, [, w]) => s + w, 0);
  let x = random * total;
  for (const [op, w] of MIX) {
    if ((x -= w) < 0) return op;
  }
  return MIX[0][0];
}

/**
 * Run `clients` loops of the mixed load (sends, streams, share views,
 * catalog pages) until stop() returns true. Each client signs in as one of
 * the users and starts a new conversation every few sends. After a failure a
 * client waits a little, as a client honouring Retry-After would. Returns
 * every record, plus the share's views answered 200 (`views`).
 */
export async function mixedLoad(ctx, { clients, stop, tag }) {
  const records = [];
  let n = 0;
  const client = async (c) => {
    const auth = ctx.users[c % ctx.users.length];
    let conv = null;
    let sends = 0;
    while (!stop()) {
      if (!conv || sends >= SENDS_PER_CONVERSATION) {
        const rec = await hit('conversation', 'POST', `${API}/conversations`,
          { auth, body: { tools: [ctx.fast.slug, ctx.paced.slug].slice(c % 2, c % 2 + 1) } });
        records.push(rec);
        if (rec.status === 201) {
          conv = rec.json.id;
          sends = 0;
        } else {
          await delay(100);
        }
        continue;
      }
      const op = pick(Math.random());
      let rec;
      if (op === 'send' || op === 'stream') {
        sends++;
        rec = await hit(op, 'POST', `${API}/conversations/${conv}/messages`, {
          auth, stream: op === 'stream', body: { content: `faults ${tag} ${c}.${n++}`, stream: op === 'stream' },
        });
      } else if (op === 'share') {
        rec = await hit(op, 'GET', `/share/${ctx.share.token}`);
      } else {
        rec = await hit(op, 'GET', `${API}/tools?limit=20`, { auth });
      }
      records.push(rec);
      if (!succeeded(rec)) await delay(100);
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  return records;
}

// ---- what the database kept ------------------------------------------------------------

/** Wait (bounded) until no answer of these users is still 'streaming'. */
export async function settled(userIds, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  let left;
  do {
    [{ left }] = await sqlJson(
      `SELECT count(*)::int AS left FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE c.owner_id = ANY (:'p1'::uuid[]) AND m.status = 'streaming'`, `{${userIds.join(',')}}`);
    if (left === 0) return 0;
    await delay(500);
  } while (Date.now() < deadline);
  return left;
}

/**
 * The writes the clients saw succeed: { conversations, messages:
 * Map(id -> status the client saw or null), requests: request ids }.
 */
export function committed(records) {
  const conversations = [];
  const messages = new Map();
  const requests = [];
  for (const rec of records) {
    if (rec.op === 'conversation' && rec.status === 201) {
      conversations.push(rec.json.id);
      requests.push(rec.requestId);
    } else if (rec.op === 'send' && rec.status === 201) {
      messages.set(rec.json.user_message.id, 'complete');
      for (const a of rec.json.answers) messages.set(a.id, a.status);
      requests.push(rec.requestId);
    } else if (rec.op === 'stream' && rec.status === 200) {
      // The start event comes after the user message committed; done after the answer did.
      for (const ev of rec.events) {
        if (ev.event === 'start' && ev.json?.user_message) messages.set(ev.json.user_message.id, 'complete');
        if (ev.event === 'done') messages.set(ev.json.message_id, 'complete');
      }
      if (rec.events.some((e) => e.event === 'start' && e.json?.user_message)) requests.push(rec.requestId);
    }
  }
  return { conversations, messages, requests };
}

/**
 * Check committed writes against the database: { writes, lost: [what],
 * unaudited: [what] }. Lost: a conversation or message the client saw
 * stored that is not there, or not with the status the client saw.
 * Unaudited: a successful write request without its change's audit row, or
 * a conversation or user message of these users without an audit row
 * naming it (whether or not its client saw it).
 */
export async function checkCommitted(records, userIds) {
  const { conversations, messages, requests } = committed(records);
  const lost = [];
  const unaudited = [];
  const convRows = await sqlJson(`SELECT id FROM conversations WHERE id = ANY (:'p1'::uuid[]) AND deleted_at IS NULL`,
    `{${conversations.join(',')}}`);
  const haveConv = new Set(convRows.map((r) => r.id));
  for (const id of conversations) if (!haveConv.has(id)) lost.push(`conversation ${id}`);
  const msgRows = await sqlJson(`SELECT id, status FROM messages WHERE id = ANY (:'p1'::uuid[])`,
    `{${[...messages.keys()].join(',')}}`);
  const status = new Map(msgRows.map((r) => [r.id, r.status]));
  for (const [id, seen] of messages) {
    if (!status.has(id)) lost.push(`message ${id}`);
    else if (seen && status.get(id) !== seen) lost.push(`message ${id} ${seen} -> ${status.get(id)}`);
  }
  const audited = await sqlJson(
    `SELECT DISTINCT request_id FROM audit_logs WHERE request_id = ANY (:'p1'::text[]) AND action <> 'request'`,
    `{${requests.join(',')}}`);
  const auditedIds = new Set(audited.map((r) => r.request_id));
  for (const id of requests) if (!auditedIds.has(id)) unaudited.push(`request ${id}`);
  const orphans = await sqlJson(
    `WITH mine AS (
       SELECT c.id::text AS id, 'conversation' AS what FROM conversations c WHERE c.owner_id = ANY (:'p1'::uuid[])
       UNION ALL
       SELECT m.id::text, 'user message' FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE c.owner_id = ANY (:'p1'::uuid[]) AND m.sender_type = 'user')
     SELECT mine.what, mine.id FROM mine
      WHERE NOT EXISTS (SELECT 1 FROM audit_logs a WHERE a.entity_id = mine.id
                          AND a.entity_type IN ('conversation', 'message'))`,
    `{${userIds.join(',')}}`);
  for (const o of orphans) unaudited.push(`${o.what} ${o.id} (database)`);
  return { writes: conversations.length + messages.size, requests: requests.length, lost, unaudited };
}

/**
 * The credits of these users' turns: { turns, open: [turn], unexplained:
 * [user] }. A turn (a 'reserve' ledger row) is open when what it reserved
 * did not come back: reserve + its answers' settle/release rows (+ a release
 * naming the turn's message) differ from minus what its answers were
 * charged (prompt + completion tokens of those not failed). A user is
 * unexplained when the ledger's rows do not chain from delta to delta to the
 * balance.
 */
export async function checkCredits(userIds) {
  const ids = `{${userIds.join(',')}}`;
  const turns = await sqlJson(
    `SELECT r.id, r.user_id, r.message_id, -r.delta AS reserved,
            coalesce((SELECT sum(l.delta) FROM credit_ledger l
                       WHERE l.user_id = r.user_id AND l.reason IN ('settle', 'release')
                         AND (l.message_id = r.message_id OR l.message_id IN
                              (SELECT a.id FROM messages a WHERE a.parent_message_id = r.message_id
                                  AND a.sender_type = 'ai'))), 0) AS returned,
            coalesce((SELECT sum(coalesce(a.prompt_tokens, 0) + coalesce(a.completion_tokens, 0))
                        FROM messages a WHERE a.parent_message_id = r.message_id AND a.sender_type = 'ai'
                         AND a.status <> 'error'), 0) AS charged
       FROM credit_ledger r WHERE r.user_id = ANY (:'p1'::uuid[]) AND r.reason = 'reserve'`, ids);
  const open = turns.filter((t) => Number(t.returned) - Number(t.reserved) !== -Number(t.charged));
  const unexplained = await sqlJson(
    `SELECT u.username FROM users u
      WHERE u.id = ANY (:'p1'::uuid[]) AND (
        u.token_credits <> (SELECT l.balance_after FROM credit_ledger l WHERE l.user_id = u.id ORDER BY l.id DESC LIMIT 1)
        OR EXISTS (SELECT 1 FROM (SELECT l.balance_after, l.delta,
                                         lag(l.balance_after) OVER (ORDER BY l.id) AS before
                                    FROM credit_ledger l WHERE l.user_id = u.id) x
                    WHERE x.before IS NOT NULL AND x.before + x.delta <> x.balance_after))`, ids);
  return { turns: turns.length, open, unexplained: unexplained.map((u) => u.username) };
}

// ---- the server's processes ------------------------------------------------------------

/** httpd's parent pid. */
export function httpdParent() {
  return Number(readFileSync(`${STATE}/httpd.pid`, 'utf8').trim());
}

/** httpd's children: their pids. */
export function httpdChildren(parent = httpdParent()) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Resident memory of a process in kB (VmRSS), or null when it is gone. */
export function rssKb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** mod_status's BusyWorkers (this request's own worker included). */
export async function busyWorkers() {
  const res = await fetch(`${BASE_URL}/server-status?auto`);
  const m = /^BusyWorkers: (\d+)$/m.exec(await res.text());
  if (!m) throw new Error('mod_status gave no BusyWorkers');
  return Number(m[1]);
}

/** The error log's size now: errorLines(mark) reads what was written since. */
export function errorLogMark() {
  return statSync(`${STATE}/error.log`).size;
}

export function errorLines(mark) {
  return readFileSync(`${STATE}/error.log`).subarray(mark).toString('utf8').split('\n').filter(Boolean);
}

/** Lines saying that a child died of a signal (a crash). */
export function crashLines(lines) {
  return lines.filter((l) => /exit signal|seg fault|Segmentation fault|Aborted/.test(l));
}

/** Core files the children left (bench/faults/run turns core dumps on). */
export function coreFiles() {
  try {
    return readdirSync(`${STATE}/cores`).map((name) => `${STATE}/cores/${name}`);
  } catch {
    return [];
  }
}

/** The mock provider's stream counters. */
export async function mockStats() {
  const res = await fetch(`${process.env.AICHAT_MOCK_URL}/_mock/stats`);
  return (await res.json()).streams;
}
