// Conversations, messages, streaming and credits for the integration tests:
// a Server-Sent Events parser and a streaming request that records each
// event as it arrives, the mock provider's inspection endpoints and its
// arithmetic (reply text, chunk and token counts), shape assertions for
// conversation and message objects, credit and ledger helpers, and a
// ChatFixture that makes models (through the Catalog), users and
// conversations and removes the models and conversations again.

import assert from 'node:assert/strict';
import { api, API_BASE, currentServer } from './http.mjs';
import { mockUrl } from './env.mjs';
import { sql, sqlJson, sqlValue } from './db.mjs';
import { assertJson, UUID_RE } from './assert.mjs';
import { Catalog } from './catalog.mjs';
import { createUser } from './users.mjs';
import { poll } from './poll.mjs';

// ---- Server-Sent Events ------------------------------------------------------

/**
 * An incremental parser following the WHATWG rules: lines end at CRLF, LF
 * or CR (a CR at the end of one chunk and an LF at the start of the next are
 * one line end); a blank line dispatches; ':' lines are comments; one space
 * after the colon is stripped; several data lines are joined with '\n'; an
 * event without data is dropped; an unterminated event at the end is dropped
 * (and counted in `unterminated`).
 */
export class SseParser {
  constructor() {
    this.line = '';
    this.pendingCr = false;
    this.reset();
    this.unterminated = 0;
    this.bomChecked = false;
  }

  reset() {
    this.type = '';
    this.data = [];
    this.hasData = false;
    this.id = undefined;
  }

  /** Feed decoded text; returns the events completed by it: [{event, data, id}]. */
  feed(text) {
    const out = [];
    if (!this.bomChecked && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.bomChecked = true;
    }
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (this.pendingCr) {
        this.pendingCr = false;
        if (c === '\n') continue;
      }
      if (c === '\r' || c === '\n') {
        if (c === '\r') this.pendingCr = true;
        this.processLine(this.line, out);
        this.line = '';
      } else {
        this.line += c;
      }
    }
    return out;
  }

  processLine(line, out) {
    if (line === '') {
      if (this.hasData) out.push({ event: this.type || 'message', data: this.data.join('\n'), id: this.id });
      this.reset();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.hasData = true;
    } else if (field === 'event') {
      this.type = value;
    } else if (field === 'id' && !value.includes('\0')) {
      this.id = value;
    }
  }

  /** End of the body: an event still being collected is not dispatched. */
  end() {
    if (this.line !== '' || this.hasData) this.unterminated++;
    this.line = '';
    this.reset();
    return [];
  }
}

/** All events of a complete SSE body: [{event, data, id}]. */
export function parseSse(text) {
  const parser = new SseParser();
  const events = parser.feed(text);
  parser.end();
  return events;
}

function basicAuth(user, password) {
  return `Basic ${Buffer.from(`${user}:${password ?? ''}`, 'utf8').toString('base64')}`;
}

/**
 * A request under the JSON API base whose answer may be a stream: the body
 * is read as it arrives and, for text/event-stream, parsed into events, each
 * with its JSON data (`json`, undefined when the data is not JSON) and `at`,
 * the milliseconds since the request was sent. onEvent(event, events) runs
 * for each event as it arrives (it may abort the request through the signal
 * the caller passed). Returns { status, headers, requestId, contentType,
 * events, text, json, label, aborted, unterminated, endedAt }.
 */
export async function streamApi(method, path, options = {}) {
  const { user, password, body, headers = {}, signal, onEvent } = options;
  const sent = new Headers();
  if (user !== undefined) sent.set('Authorization', basicAuth(user, password));
  const init = { method, headers: sent, redirect: 'manual', signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    sent.set('Content-Type', 'application/json');
  }
  for (const [name, value] of Object.entries(headers)) sent.set(name, value);

  const label = `${method} ${API_BASE}${path}`;
  const started = Date.now();
  const res = await fetch(currentServer() + API_BASE + path, init);
  const contentType = res.headers.get('content-type') ?? '';
  const isSse = /^text\/event-stream/i.test(contentType);
  const parser = new SseParser();
  const events = [];
  let text = '';
  let aborted = false;
  const decoder = new TextDecoder('utf-8');
  const take = (list) => {
    for (const ev of list) {
      let json;
      try {
        json = JSON.parse(ev.data);
      } catch {
        json = undefined;
      }
      const event = { ...ev, json, at: Date.now() - started };
      events.push(event);
      if (onEvent) onEvent(event, events);
    }
  };
  try {
    for await (const chunk of res.body) {
      const piece = decoder.decode(chunk, { stream: true });
      text += piece;
      if (isSse) take(parser.feed(piece));
    }
    const rest = decoder.decode();
    text += rest;
    if (isSse) {
      take(parser.feed(rest));
      parser.end();
    }
  } catch (err) {
    if (err?.name === 'AbortError' || signal?.aborted) aborted = true;
    else throw err;
  }
  let json;
  if (!isSse) {
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return {
    status: res.status,
    headers: res.headers,
    requestId: res.headers.get('x-request-id'),
    contentType,
    events,
    text,
    json,
    label,
    aborted,
    unterminated: parser.unterminated,
    endedAt: Date.now() - started,
  };
}

/** Names of a list of events, e.g. ['start', 'delta', 'delta', 'done', 'end']. */
export function eventNames(events) {
  return events.map((e) => e.event);
}

/** The event names with runs of delta collapsed: ['start', 'delta*', 'done', 'end']. */
export function eventShape(events) {
  const out = [];
  for (const name of eventNames(events)) {
    if (name === 'delta' && out.at(-1) === 'delta*') continue;
    out.push(name === 'delta' ? 'delta*' : name);
  }
  return out;
}

/** Asserts a streamed response: 200, text/event-stream, every event's data is JSON. */
export function assertSse(res) {
  const show = `${res.label} answered ${res.status} ${res.contentType}: ${res.text.slice(0, 400)}`;
  assert.equal(res.status, 200, `expected a 200 stream; ${show}`);
  assert.match(res.contentType, /^text\/event-stream/i, `not an event stream; ${show}`);
  for (const ev of res.events) {
    assert.notEqual(ev.json, undefined, `event ${ev.event} has data that is not JSON: ${ev.data.slice(0, 200)}`);
  }
  assert.equal(res.unterminated, 0, `the stream ended inside an event; ${show}`);
  return res.events;
}

// ---- the mock provider -----------------------------------------------------------

/** provider name of the dev/test server -> the mock's protocol kind. */
export const KIND_OF_PROVIDER = Object.freeze({ openai: 'openai', anthropic: 'anthropic', google: 'gemini' });

/** A model id the mock provider answers for each protocol (switches go after '@'). */
export const BASE_MODEL = Object.freeze({
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-5-sonnet-latest',
  google: 'gemini-1.5-flash',
});

async function mockGet(path) {
  const res = await fetch(mockUrl() + path);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

/**
 * The last chat request the mock received for a protocol kind (openai,
 * anthropic, gemini): { raw, body, path }. When `marker` is given, asserts
 * that the request carries it (so another client of a shared mock cannot
 * make the test read someone else's request).
 */
export async function mockLast(kind, marker) {
  const res = await mockGet(`/_mock/last?kind=${kind}`);
  assert.equal(res.status, 200, `the mock has no ${kind} request recorded: ${res.status} ${res.text.slice(0, 200)}`);
  if (marker !== undefined) {
    assert.ok(res.text.includes(marker), `the mock's last ${kind} request is not ours (no ${JSON.stringify(marker)}): ${res.text.slice(0, 400)}`);
  }
  let body;
  try {
    body = JSON.parse(res.text);
  } catch {
    assert.fail(`the module sent the mock a ${kind} body that is not JSON: ${res.text.slice(0, 300)}`);
  }
  return { raw: res.text, body, path: res.headers.get('x-mock-path') };
}

/** The mock's last request of a kind as raw text, or null when there is none. */
export async function mockLastRaw(kind) {
  const res = await mockGet(`/_mock/last?kind=${kind}`);
  return res.status === 200 ? res.text : null;
}

/** GET /_mock/stats: {requests:{openai,anthropic,gemini}, streams:{started,completed,aborted,cut,active}}. */
export async function mockStats() {
  const res = await mockGet('/_mock/stats');
  assert.equal(res.status, 200, `GET /_mock/stats: ${res.status}`);
  return JSON.parse(res.text);
}

/** Unicode code points in a string (what the mock counts as characters). */
export function codePoints(text) {
  return [...text].length;
}

/** The mock's reply to a user message. */
export function mockReply(content) {
  return `Mock reply to: ${content}`;
}

/** The mock's reply with the tokens=N switch. */
export function wordsReply(n) {
  return Array.from({ length: n }, (_, i) => `word${i + 1}`).join(' ');
}

/** Chunks (and completion tokens) the mock makes of a reply. */
export function chunkCount(reply) {
  return (reply.match(/\s*\S+\s*/g) ?? (reply ? [reply] : [])).length;
}

function textOf(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (part && typeof part.text === 'string' ? part.text : '')).join('');
}

/** The system prompt of an upstream request body, or '' when it has none. */
export function upstreamSystem(kind, body) {
  if (kind === 'openai') {
    return body.messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => textOf(m.content)).join('\n');
  }
  if (kind === 'anthropic') return textOf(body.system);
  return textOf((body.systemInstruction ?? body.system_instruction)?.parts);
}

/** The conversation of an upstream request without the system prompt: [{role: user|assistant, text}]. */
export function upstreamTurns(kind, body) {
  if (kind === 'openai') {
    return body.messages
      .filter((m) => m.role !== 'system' && m.role !== 'developer')
      .map((m) => ({ role: m.role, text: textOf(m.content) }));
  }
  if (kind === 'anthropic') return body.messages.map((m) => ({ role: m.role, text: textOf(m.content) }));
  return body.contents.map((c) => ({ role: c.role === 'model' ? 'assistant' : 'user', text: textOf(c.parts) }));
}

/** The answer-length limit an upstream request sets, or undefined. */
export function upstreamMaxTokens(kind, body) {
  if (kind === 'openai') return body.max_completion_tokens ?? body.max_tokens;
  if (kind === 'anthropic') return body.max_tokens;
  return body.generationConfig?.maxOutputTokens ?? body.generation_config?.max_output_tokens;
}

/** The model an upstream request asked for (Gemini: from the path). */
export function upstreamModel(kind, last) {
  if (kind !== 'gemini') return last.body.model;
  const m = /^\/v1beta\/models\/(.+):(?:stream)?[gG]enerateContent$/.exec(last.path ?? '');
  assert.ok(m, `unexpected Gemini path ${last.path}`);
  return decodeURIComponent(m[1]);
}

/** The prompt tokens the mock reports for a request body: max(1, ceil(code points / 4)). */
export function mockPromptTokens(kind, body) {
  let chars = codePoints(upstreamSystem(kind, body));
  for (const turn of upstreamTurns(kind, body)) chars += codePoints(turn.text);
  return Math.max(1, Math.ceil(chars / 4));
}

/** The module's token estimate: ceil(code points / 4), 0 for ''. */
export function estimateTokens(text) {
  return Math.ceil(codePoints(text) / 4);
}

/** What the module reserves per message sent besides its text, and for the answer's start. */
export const MESSAGE_TOKENS = 8;

/**
 * The module's reservation for one model (no context window): the UTF-8 bytes of the system
 * prompt and of every message sent, MESSAGE_TOKENS per message (the system prompt counts as
 * one) and for the answer's start, plus max_tokens.
 */
export function reserveBound({ system = '', messages = [], maxTokens }) {
  let bound = MESSAGE_TOKENS + maxTokens;
  if (system) bound += Buffer.byteLength(system) + MESSAGE_TOKENS;
  for (const text of messages) bound += Buffer.byteLength(text) + MESSAGE_TOKENS;
  return bound;
}

/** reserveBound of what an upstream request body carried (a lower bound of the reservation:
 *  Anthropic and Gemini join consecutive turns of one role). */
export function sentBound(kind, body) {
  return reserveBound({
    system: upstreamSystem(kind, body),
    messages: upstreamTurns(kind, body).map((t) => t.text),
    maxTokens: upstreamMaxTokens(kind, body),
  });
}

// ---- shapes ------------------------------------------------------------------------

const CONVERSATION_FIELDS = [
  'id', 'title', 'source', 'system_prompt', 'settings', 'status', 'total_messages', 'last_message_at',
  'active_leaf_id', 'pinned', 'archived', 'created_at', 'updated_at', 'deleted_at', 'owner', 'is_owner',
  'tools', 'participants', 'is_group',
];

const MESSAGE_FIELDS = [
  'id', 'conversation_id', 'parent_id', 'sender_type', 'sender', 'content', 'content_type', 'status', 'error',
  'prompt_tokens', 'completion_tokens', 'tokens_estimated', 'response_time_ms', 'is_first_responder',
  'created_at', 'sibling_ids', 'sibling_index',
];

function isTimestamp(value) {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A conversation object: every field, with its type. */
export function assertConversationShape(conv, what = 'conversation') {
  const show = JSON.stringify(conv);
  assert.ok(isObject(conv), `${what} is not an object: ${show}`);
  for (const key of CONVERSATION_FIELDS) assert.ok(key in conv, `${what} lacks "${key}": ${show}`);
  assert.match(conv.id, UUID_RE, `${what}.id: ${show}`);
  assert.equal(typeof conv.title, 'string', `${what}.title: ${show}`);
  assert.equal(typeof conv.source, 'string', `${what}.source: ${show}`);
  assert.ok(conv.system_prompt === null || typeof conv.system_prompt === 'string', `${what}.system_prompt: ${show}`);
  assert.ok(isObject(conv.settings), `${what}.settings: ${show}`);
  assert.ok(['active', 'deleted'].includes(conv.status), `${what}.status: ${show}`);
  assert.ok(Number.isInteger(conv.total_messages) && conv.total_messages >= 0, `${what}.total_messages: ${show}`);
  assert.ok(isTimestamp(conv.last_message_at), `${what}.last_message_at: ${show}`);
  assert.ok(conv.active_leaf_id === null || UUID_RE.test(conv.active_leaf_id), `${what}.active_leaf_id: ${show}`);
  assert.equal(typeof conv.pinned, 'boolean', `${what}.pinned: ${show}`);
  assert.equal(typeof conv.archived, 'boolean', `${what}.archived: ${show}`);
  assert.ok(isTimestamp(conv.created_at), `${what}.created_at: ${show}`);
  assert.ok(isTimestamp(conv.updated_at), `${what}.updated_at: ${show}`);
  assert.ok(conv.deleted_at === null || isTimestamp(conv.deleted_at), `${what}.deleted_at: ${show}`);
  assert.equal(typeof conv.owner, 'string', `${what}.owner: ${show}`);
  assert.equal(typeof conv.is_owner, 'boolean', `${what}.is_owner: ${show}`);
  assert.ok(Array.isArray(conv.tools) && conv.tools.length >= 1, `${what}.tools: ${show}`);
  for (const tool of conv.tools) {
    for (const key of ['slug', 'display_name', 'provider', 'model_id', 'is_active']) {
      assert.ok(key in tool, `${what}.tools[] lacks "${key}": ${show}`);
    }
  }
  assert.ok(Array.isArray(conv.participants), `${what}.participants: ${show}`);
  for (const p of conv.participants) {
    assert.equal(typeof p.username, 'string', `${what}.participants[].username: ${show}`);
    assert.ok(['admin', 'member'].includes(p.role), `${what}.participants[].role: ${show}`);
    assert.ok('display_name' in p, `${what}.participants[] lacks display_name: ${show}`);
  }
  assert.equal(conv.is_group, conv.tools.length > 1, `${what}.is_group disagrees with its tools: ${show}`);
}

/** A message object: every field, with its type, and sibling_index consistent with sibling_ids. */
export function assertMessageShape(msg, what = 'message') {
  const show = JSON.stringify(msg);
  assert.ok(isObject(msg), `${what} is not an object: ${show}`);
  for (const key of MESSAGE_FIELDS) assert.ok(key in msg, `${what} lacks "${key}": ${show}`);
  assert.match(msg.id, UUID_RE, `${what}.id: ${show}`);
  assert.match(msg.conversation_id, UUID_RE, `${what}.conversation_id: ${show}`);
  assert.ok(msg.parent_id === null || UUID_RE.test(msg.parent_id), `${what}.parent_id: ${show}`);
  assert.ok(['user', 'ai'].includes(msg.sender_type), `${what}.sender_type: ${show}`);
  assert.ok(isObject(msg.sender), `${what}.sender: ${show}`);
  if (msg.sender_type === 'user') {
    assert.equal(typeof msg.sender.username, 'string', `${what}.sender.username: ${show}`);
    assert.ok('display_name' in msg.sender, `${what}.sender.display_name: ${show}`);
  } else {
    for (const key of ['slug', 'display_name', 'model_id']) assert.ok(key in msg.sender, `${what}.sender.${key}: ${show}`);
  }
  assert.equal(typeof msg.content, 'string', `${what}.content: ${show}`);
  assert.equal(msg.content_type, 'text/markdown', `${what}.content_type: ${show}`);
  assert.ok(['complete', 'streaming', 'error', 'incomplete'].includes(msg.status), `${what}.status: ${show}`);
  assert.ok(msg.error === null || typeof msg.error === 'string', `${what}.error: ${show}`);
  for (const key of ['prompt_tokens', 'completion_tokens', 'response_time_ms']) {
    assert.ok(msg[key] === null || (Number.isInteger(msg[key]) && msg[key] >= 0), `${what}.${key}: ${show}`);
  }
  assert.equal(typeof msg.tokens_estimated, 'boolean', `${what}.tokens_estimated: ${show}`);
  assert.equal(typeof msg.is_first_responder, 'boolean', `${what}.is_first_responder: ${show}`);
  assert.ok(isTimestamp(msg.created_at), `${what}.created_at: ${show}`);
  assert.ok(Array.isArray(msg.sibling_ids) && msg.sibling_ids.includes(msg.id), `${what}.sibling_ids lacks the message itself: ${show}`);
  assert.equal(msg.sibling_ids[msg.sibling_index], msg.id, `${what}.sibling_index does not point at the message: ${show}`);
}

/** A complete answer of the mock: status, sender, content and provider usage. */
export function assertAnswer(msg, { tool, content, what = 'answer' } = {}) {
  assertMessageShape(msg, what);
  const show = JSON.stringify(msg);
  assert.equal(msg.sender_type, 'ai', `${what} is not from a model: ${show}`);
  assert.equal(msg.status, 'complete', `${what} is not complete: ${show}`);
  assert.equal(msg.error, null, `${what} has an error: ${show}`);
  if (tool) assert.equal(msg.sender.slug, tool.slug, `${what} is from another model: ${show}`);
  if (content !== undefined) assert.equal(msg.content, content, `${what}'s content`);
}

// ---- requests ----------------------------------------------------------------------

/** POST /conversations/{id}/messages as JSON (non-streaming unless the body says otherwise). */
export function sendMessage(auth, convId, body) {
  return api('POST', `/conversations/${convId}/messages`, { ...auth, body });
}

/** POST /conversations/{id}/messages with "stream": true, read as a stream. */
export function streamMessage(auth, convId, body, options = {}) {
  return streamApi('POST', `/conversations/${convId}/messages`, {
    ...auth,
    body: { stream: true, ...body },
    headers: { Accept: 'text/event-stream' },
    ...options,
  });
}

/** A non-streamed send that must succeed: the 201 body {user_message, answers, credits}. */
export async function say(auth, convId, content, extra = {}) {
  const res = await sendMessage(auth, convId, { content, ...extra });
  const body = assertJson(res, 201);
  assertMessageShape(body.user_message, `${res.label} user_message`);
  assert.ok(Array.isArray(body.answers), `${res.label}: answers is not an array: ${res.text.slice(0, 300)}`);
  body.answers.forEach((a, i) => assertMessageShape(a, `${res.label} answers[${i}]`));
  assert.ok(Number.isInteger(body.credits), `${res.label}: credits ${JSON.stringify(body.credits)}`);
  return body;
}

/** GET /conversations/{id}/messages that must succeed: the items (shapes asserted). */
export async function thread(auth, convId) {
  const res = await api('GET', `/conversations/${convId}/messages`, auth);
  const body = assertJson(res, 200);
  assert.ok(Array.isArray(body.items), `${res.label}: items is not an array`);
  body.items.forEach((m, i) => assertMessageShape(m, `${res.label} item ${i}`));
  return body.items;
}

/** Asserts that a thread is a path: root first, each message's parent the one before it. */
export function assertPath(items, what = 'thread') {
  if (items.length === 0) return;
  assert.equal(items[0].parent_id, null, `${what} does not start at a root: ${JSON.stringify(items[0])}`);
  for (let i = 1; i < items.length; i++) {
    assert.equal(items[i].parent_id, items[i - 1].id, `${what}: item ${i}'s parent is not item ${i - 1}`);
  }
}

// ---- database ------------------------------------------------------------------------

/** Rows of messages of a conversation, oldest first. */
export function dbMessages(convId) {
  return sqlJson(
    `SELECT id, parent_message_id, sender_type, sender_tool_id, content, status, error, prompt_tokens,
            completion_tokens, tokens_estimated, is_first_responder
       FROM messages WHERE conversation_id = :'p1' ORDER BY created_at, id`,
    convId,
  );
}

/** The message row with this id, or undefined. */
export async function dbMessage(id) {
  const rows = await sqlJson(`SELECT * FROM messages WHERE id = :'p1'`, id);
  return rows[0];
}

/** The conversations row with this id, or undefined. */
export async function dbConversation(id) {
  const rows = await sqlJson(`SELECT * FROM conversations WHERE id = :'p1'`, id);
  return rows[0];
}

/** A user's token_credits as a number. */
export async function credits(userId) {
  return Number(await sqlValue(`SELECT token_credits FROM users WHERE id = :'p1'`, userId));
}

/**
 * Set a user's balance for a test, recorded in the ledger as a grant so
 * the ledger still explains the balance.
 */
export async function setCredits(userId, amount) {
  await sql(
    `WITH u AS (UPDATE users n SET token_credits = :'p2'::bigint
                  FROM (SELECT id, token_credits FROM users WHERE id = :'p1' FOR UPDATE) o
                 WHERE n.id = o.id RETURNING n.token_credits AS credits, o.token_credits AS earlier)
     INSERT INTO credit_ledger (user_id, delta, balance_after, reason, note)
     SELECT :'p1', u.credits - u.earlier, u.credits, 'grant', 'integration test setup' FROM u`,
    userId, amount,
  );
}

/**
 * Wait until the `count` calls made with an API key are settled and the
 * credits held for them given back: /chat/v1 answers first, and its process
 * writes the call's row and gives back what it held within a second. A test
 * that reads what calls cost waits for this. Returns the key's calls, oldest
 * first.
 */
export async function apiCallsSettled(keyId, count) {
  const read = async () => ({
    calls: await sqlJson(`SELECT * FROM api_calls WHERE key_id = :'p1' ORDER BY created_at`, keyId),
    held: Number(await sqlValue(`SELECT count(*) FROM api_key_leases WHERE key_id = :'p1'`, keyId)),
  });
  const seen = await poll(read, (s) => s.calls.length >= count && s.held === 0, { tries: 200, intervalMs: 50 });
  assert.equal(seen.held, 0, 'the credits held for the key were not given back within 10 s');
  assert.equal(seen.calls.length, count, `${seen.calls.length} calls settled, not ${count}`);
  return seen.calls;
}

/** The newest credit_ledger id (0 when empty): rows after it are "since now". */
export async function ledgerMark() {
  return Number(await sqlValue(`SELECT coalesce(max(id), 0) FROM credit_ledger`));
}

/** A user's credit_ledger rows after a mark, oldest first (numbers as numbers). */
export async function ledgerSince(userId, mark) {
  const rows = await sqlJson(
    `SELECT id, delta, balance_after, reason, message_id, granted_by, note
       FROM credit_ledger WHERE user_id = :'p1' AND id > :'p2'::bigint ORDER BY id`,
    userId, mark,
  );
  return rows.map((r) => ({ ...r, delta: Number(r.delta), balance_after: Number(r.balance_after) }));
}

/** Sum of the deltas of ledger rows. */
export function ledgerSum(rows) {
  return rows.reduce((sum, r) => sum + r.delta, 0);
}

/**
 * Asserts that ledger rows explain a balance change: they sum to it and
 * each balance_after is the previous balance plus the row's delta (rows in
 * id order), never below zero.
 */
export function assertLedgerExplains(rows, before, after, what = 'ledger') {
  const show = JSON.stringify(rows.map((r) => [r.reason, r.delta, r.balance_after]));
  assert.equal(ledgerSum(rows), after - before, `${what} rows do not sum to the balance change ${before} -> ${after}: ${show}`);
  let balance = before;
  for (const r of rows) {
    balance += r.delta;
    assert.equal(r.balance_after, balance, `${what}: balance_after does not follow from the deltas: ${show}`);
    assert.ok(r.balance_after >= 0, `${what}: a balance below zero: ${show}`);
  }
}

/** Waits (bounded) until a message row leaves the "streaming" status; returns the last row read. */
export function settledMessage(id, { tries = 150, intervalMs = 100 } = {}) {
  return poll(() => dbMessage(id), (row) => row !== undefined && row.status !== 'streaming', { tries, intervalMs });
}

// ---- fixture -------------------------------------------------------------------------

/**
 * Models, users and conversations for one test file. Models are made
 * through the admin API (Catalog) on the mock provider, with a small
 * default max_tokens so that credit reservations stay small; cleanup()
 * deletes every conversation that uses them (they would keep the models
 * from being deleted), then the models.
 */
export class ChatFixture {
  constructor(prefix = 'chat') {
    this.catalog = new Catalog(prefix);
    this.tag = this.catalog.tag;
    this.convIds = [];
  }

  /**
   * A model on provider openai, anthropic or google whose model_id is the
   * protocol's base model plus the mock switches given (e.g. 'error=429').
   */
  async model({ provider = 'openai', switches, maxTokens = 64, capabilities, defaultSettings, displayName, slug, ...rest } = {}) {
    slug = slug ?? this.catalog.slug();
    const modelId = switches ? `${BASE_MODEL[provider]}@${switches}` : BASE_MODEL[provider];
    const tool = await this.catalog.tool({
      slug,
      name: `Chat test ${slug}`,
      display_name: displayName ?? `Model ${slug}`,
      provider,
      model_id: modelId,
      capabilities: capabilities ?? { streaming: true },
      default_settings: defaultSettings ?? { max_tokens: maxTokens },
      ...rest,
    });
    tool.kind = KIND_OF_PROVIDER[provider];
    return tool;
  }

  /** A fresh user that can sign in, with this balance (default 1,000,000). */
  async user({ credits: amount = 1_000_000, prefix = 'chat' } = {}) {
    const user = await createUser({ prefix });
    await setCredits(user.id, amount);
    return user;
  }

  /** Remember a conversation (by id) to delete in cleanup(). */
  track(conv) {
    if (conv?.id && !this.convIds.includes(conv.id)) this.convIds.push(conv.id);
    return conv;
  }

  /** POST /conversations; returns the response (tracking whatever it created). */
  async createRes(auth, body) {
    const res = await api('POST', '/conversations', { ...auth, body });
    if (res.status === 201 && res.json?.id) this.track(res.json);
    return res;
  }

  /** A conversation with these models (tools or slugs) that must be created (201). */
  async conversation(auth, tools, extra = {}) {
    const slugs = (Array.isArray(tools) ? tools : [tools]).map((t) => (typeof t === 'string' ? t : t.slug));
    const res = await this.createRes(auth, { tools: slugs, ...extra });
    const conv = assertJson(res, 201);
    assertConversationShape(conv, `${res.label} answer`);
    return conv;
  }

  async cleanup() {
    const problems = [];
    const toolIds = this.catalog.toolIds;
    try {
      if (this.convIds.length > 0) {
        await sql(`DELETE FROM conversations WHERE id = ANY (:'p1'::uuid[])`, `{${this.convIds.join(',')}}`);
      }
      if (toolIds.length > 0) {
        await sql(
          `DELETE FROM conversations c WHERE EXISTS (SELECT 1 FROM conversation_ai_models m
             WHERE m.conversation_id = c.id AND m.tool_id = ANY (:'p1'::uuid[]))`,
          `{${toolIds.join(',')}}`,
        );
      }
    } catch (err) {
      problems.push(`psql could not delete the test conversations: ${err.message}`);
    }
    try {
      await this.catalog.cleanup();
    } catch (err) {
      problems.push(err.message);
    }
    assert.deepEqual(problems, [], 'cleanup of the chat test data failed');
  }
}
