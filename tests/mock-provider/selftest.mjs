// Self-test of the mock provider: node --test tests/mock-provider/selftest.mjs
// Starts server.mjs on a free port and checks each protocol, stream shape and switch.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import http from 'node:http';

const KEY = 'selftest-key';
let server;
let base;

before(async () => {
  server = spawn(process.execPath, [fileURLToPath(new URL('./server.mjs', import.meta.url)), '--port', '0', '--key', KEY], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  base = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^mock-provider listening on (http:\/\/\S+)\n/);
      if (m) resolve(new URL(m[1]));
    });
    server.on('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
});

after(() => {
  if (server.exitCode === null) server.kill('SIGKILL');
});

// ---- helpers -------------------------------------------------------------------------------

/** One HTTP request; resolves with status, headers, body text, the body as received chunk by chunk,
 *  whether the response was complete, and the elapsed time. */
function request(method, path, { headers = {}, body, onChunk } = {}) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => {
        chunks.push(c);
        onChunk?.(c, req);
      });
      res.on('error', () => {}); // a cut stream ends with "aborted"; `complete` tells
      res.on('close', () => resolve({
        status: res.statusCode,
        headers: res.headers,
        text: Buffer.concat(chunks).toString(),
        chunks,
        complete: res.complete,
        ms: performance.now() - start,
      }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  });
}

const getJson = async (path, headers) => {
  const r = await request('GET', path, { headers });
  return { ...r, json: JSON.parse(r.text) };
};

/** SSE parsing per the WHATWG rules the module follows (CRLF, LF, CR; comments; one optional space). */
function parseSse(text) {
  const events = [];
  let comments = 0;
  let data = [];
  let event = '';
  const lines = text.split(/\r\n|\r|\n/);
  lines.pop(); // whatever follows the last line end is an unterminated line
  for (const line of lines) {
    if (line === '') {
      if (data.length) events.push({ event: event || 'message', data: data.join('\n') });
      data = [];
      event = '';
    } else if (line.startsWith(':')) {
      comments++;
    } else {
      const c = line.indexOf(':');
      const field = c < 0 ? line : line.slice(0, c);
      const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
    }
  }
  return { events, comments };
}

const AUTH = {
  openai: { authorization: `Bearer ${KEY}` },
  anthropic: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
  gemini: { 'x-goog-api-key': KEY },
};

// One conversation, rendered in each dialect: 9 + 2 + 6 + 5 = 22 characters -> 6 prompt tokens.
const SYSTEM = 'Be brief.';
const TURNS = [['user', 'Hi'], ['assistant', 'Hello!'], ['user', 'Help?']];
const REPLY = 'Mock reply to: Help?';
const REPLY_CHUNKS = ['Mock ', 'reply ', 'to: ', 'Help?'];

function chatRequest(kind, { model, stream = false, includeUsage = false } = {}) {
  if (kind === 'openai') {
    const body = {
      model: model ?? 'gpt-4o-mini',
      messages: [{ role: 'system', content: SYSTEM }, ...TURNS.map(([role, content]) => ({ role, content }))],
    };
    if (stream) body.stream = true;
    if (includeUsage) body.stream_options = { include_usage: true };
    return { path: '/v1/chat/completions', body };
  }
  if (kind === 'anthropic') {
    return {
      path: '/v1/messages',
      body: {
        model: model ?? 'claude-sonnet-4-20250514', max_tokens: 256, system: SYSTEM, stream,
        // content as an array of text blocks on the last turn
        messages: TURNS.map(([role, content], i) => ({ role, content: i === 2 ? [{ type: 'text', text: content }] : content })),
      },
    };
  }
  const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  return {
    path: `/v1beta/models/${encodeURIComponent(model ?? 'gemini-2.0-flash')}:${method}`,
    body: {
      systemInstruction: { parts: [{ text: SYSTEM }] },
      contents: TURNS.map(([role, text]) => ({ role: role === 'assistant' ? 'model' : role, parts: [{ text }] })),
    },
  };
}

function chat(kind, { headers = {}, onChunk, ...opts } = {}) {
  const { path, body } = chatRequest(kind, opts);
  return request('POST', path, { headers: { 'content-type': 'application/json', ...AUTH[kind], ...headers }, body, onChunk });
}

/** Text deltas of a parsed stream, one per content event. */
function deltas(kind, events) {
  const out = [];
  for (const { event, data } of events) {
    if (kind === 'openai') {
      if (data === '[DONE]') continue;
      const c = JSON.parse(data).choices?.[0]?.delta?.content;
      if (c) out.push(c);
    } else if (kind === 'anthropic') {
      if (event === 'content_block_delta') out.push(JSON.parse(data).delta.text);
    } else {
      for (const p of JSON.parse(data).candidates?.[0]?.content.parts ?? []) out.push(p.text);
    }
  }
  return out;
}

const stats = async () => (await getJson('/_mock/stats')).json;

// ---- basics --------------------------------------------------------------------------------

test('health, unknown routes', async () => {
  const h = await getJson('/health');
  assert.equal(h.status, 200);
  assert.deepEqual(h.json, { status: 'ok' });
  assert.equal((await request('GET', '/nope')).status, 404);
  assert.equal((await request('POST', '/v1beta/models/x:countTokens')).status, 404);
});

test('non-stream replies and usage in all three dialects', async () => {
  const o = await chat('openai');
  assert.equal(o.status, 200);
  const oj = JSON.parse(o.text);
  assert.equal(oj.object, 'chat.completion');
  assert.equal(oj.choices[0].message.content, REPLY);
  assert.equal(oj.choices[0].finish_reason, 'stop');
  assert.deepEqual([oj.usage.prompt_tokens, oj.usage.completion_tokens, oj.usage.total_tokens], [6, 4, 10]);

  const a = await chat('anthropic');
  assert.equal(a.status, 200);
  const aj = JSON.parse(a.text);
  assert.deepEqual(aj.content, [{ type: 'text', text: REPLY }]);
  assert.equal(aj.stop_reason, 'end_turn');
  assert.deepEqual([aj.usage.input_tokens, aj.usage.output_tokens], [6, 4]);

  const g = await chat('gemini');
  assert.equal(g.status, 200);
  const gj = JSON.parse(g.text);
  assert.equal(gj.candidates[0].content.parts[0].text, REPLY);
  assert.equal(gj.candidates[0].finishReason, 'STOP');
  assert.deepEqual(gj.usageMetadata.promptTokenCount + gj.usageMetadata.candidatesTokenCount, 10);
  assert.equal(gj.usageMetadata.totalTokenCount, 10);
});

// ---- stream shapes (as in shared/reference/samples) ----------------------------------------

test('openai stream with include_usage', async () => {
  const r = await chat('openai', { stream: true, includeUsage: true });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/event-stream/);
  assert.doesNotMatch(r.text, /\r/);
  const { events } = parseSse(r.text);
  assert.equal(events.at(-1).data, '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
  for (const c of chunks) {
    assert.deepEqual(Object.keys(c), ['id', 'object', 'created', 'model', 'service_tier', 'system_fingerprint', 'choices', 'usage', 'obfuscation']);
    assert.equal(c.id, chunks[0].id);
    assert.equal(c.object, 'chat.completion.chunk');
  }
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '', refusal: null });
  assert.deepEqual(deltas('openai', events), REPLY_CHUNKS);
  const finish = chunks.at(-2);
  assert.deepEqual(finish.choices[0].delta, {});
  assert.equal(finish.choices[0].finish_reason, 'stop');
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.deepEqual([usage.usage.prompt_tokens, usage.usage.completion_tokens, usage.usage.total_tokens], [6, 4, 10]);
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === null));
});

test('openai stream without include_usage has no usage at all', async () => {
  const { events } = parseSse((await chat('openai', { stream: true })).text);
  assert.equal(events.at(-1).data, '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
  assert.equal(chunks.length, 1 + REPLY_CHUNKS.length + 1);
  assert.ok(chunks.every((c) => !('usage' in c) && c.choices.length === 1));
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
});

test('anthropic stream', async () => {
  const r = await chat('anthropic', { stream: true });
  assert.equal(r.status, 200);
  const { events } = parseSse(r.text);
  assert.deepEqual(events.map((e) => e.event), [
    'message_start', 'content_block_start', 'ping',
    ...REPLY_CHUNKS.map(() => 'content_block_delta'),
    'content_block_stop', 'message_delta', 'message_stop',
  ]);
  for (const e of events) assert.equal(JSON.parse(e.data).type, e.event);
  assert.deepEqual(deltas('anthropic', events), REPLY_CHUNKS);
  assert.equal(JSON.parse(events[0].data).message.usage.input_tokens, 6);
  const md = JSON.parse(events.at(-2).data);
  assert.equal(md.delta.stop_reason, 'end_turn');
  assert.equal(md.usage.output_tokens, 4);
});

test('gemini stream: CRLF, running usage, no terminator; key as query parameter', async () => {
  const { path, body } = chatRequest('gemini', { stream: true });
  const r = await request('POST', `${path}&key=${KEY}`, { body });
  assert.equal(r.status, 200);
  assert.doesNotMatch(r.text, /[^\r]\n/, 'every line ends with CRLF');
  assert.ok(r.text.endsWith('}\r\n\r\n'), 'no terminator after the last event');
  const { events } = parseSse(r.text);
  assert.equal(events.length, REPLY_CHUNKS.length);
  assert.deepEqual(deltas('gemini', events), REPLY_CHUNKS);
  const chunks = events.map((e) => JSON.parse(e.data));
  for (const c of chunks) assert.deepEqual(Object.keys(c), ['candidates', 'usageMetadata', 'modelVersion', 'responseId']);
  for (const c of chunks.slice(0, -1)) {
    assert.equal(c.candidates[0].finishReason, undefined);
    assert.deepEqual(Object.keys(c.usageMetadata), ['promptTokenCount', 'totalTokenCount', 'promptTokensDetails']);
  }
  const last = chunks.at(-1);
  assert.equal(last.candidates[0].finishReason, 'STOP');
  const u = last.usageMetadata;
  assert.deepEqual([u.promptTokenCount, u.candidatesTokenCount, u.totalTokenCount], [6, 4, 10]);
});

// ---- authentication and validation ---------------------------------------------------------

test('each dialect rejects a wrong or missing key its own way', async () => {
  for (const headers of [{ authorization: 'Bearer wrong' }, {}]) {
    const r = await request('POST', '/v1/chat/completions', { headers, body: chatRequest('openai').body });
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.text).error.code, 'invalid_api_key');
  }
  for (const key of ['wrong', undefined]) {
    const headers = { 'anthropic-version': '2023-06-01', ...(key && { 'x-api-key': key }) };
    const r = await request('POST', '/v1/messages', { headers, body: chatRequest('anthropic').body });
    assert.equal(r.status, 401);
    const j = JSON.parse(r.text);
    assert.equal(j.type, 'error');
    assert.equal(j.error.type, 'authentication_error');
    assert.ok(r.headers['request-id']);
  }
  const { path, body } = chatRequest('gemini');
  for (const r of [
    await request('POST', path, { headers: { 'x-goog-api-key': 'wrong' }, body }),
    await request('POST', `${path}?key=wrong`, { body }),
    await request('POST', path, { body }),
  ]) {
    assert.equal(r.status, 400);
    const j = JSON.parse(r.text);
    assert.equal(j.error.status, 'INVALID_ARGUMENT');
    assert.equal(j.error.details[0].reason, 'API_KEY_INVALID');
  }
});

test('request validation', async () => {
  const anth = (body, headers = AUTH.anthropic) => request('POST', '/v1/messages', { headers, body });
  const { body } = chatRequest('anthropic');
  const { max_tokens: _, ...noMax } = body;
  for (const r of [
    await anth(noMax),
    await anth(body, { 'x-api-key': KEY }),
    await anth({ ...body, messages: [{ role: 'system', content: 'x' }, ...body.messages] }),
  ]) {
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.text).error.type, 'invalid_request_error');
  }
  assert.match(JSON.parse((await anth(noMax)).text).error.message, /max_tokens/);

  const o = await request('POST', '/v1/chat/completions', { headers: AUTH.openai, body: '{"model":' });
  assert.equal(o.status, 400);
  assert.equal(JSON.parse(o.text).error.type, 'invalid_request_error');

  const g = chatRequest('gemini', { stream: true });
  const noAlt = await request('POST', g.path.replace('?alt=sse', ''), { headers: AUTH.gemini, body: g.body });
  assert.equal(noAlt.status, 400);
  const badRole = await request('POST', g.path, { headers: AUTH.gemini, body: { contents: [{ role: 'assistant', parts: [] }] } });
  assert.equal(badRole.status, 400);
  assert.equal(JSON.parse(badRole.text).error.status, 'INVALID_ARGUMENT');
});

// ---- switches ------------------------------------------------------------------------------

test('error switch by model name, in each dialect, with Retry-After on 429', async () => {
  const o = await chat('openai', { model: 'gpt-4o-mini@error=429', stream: true });
  assert.equal(o.status, 429);
  assert.equal(o.headers['retry-after'], '1');
  assert.match(o.headers['content-type'], /^application\/json/);
  assert.equal(JSON.parse(o.text).error.code, 'rate_limit_exceeded');

  const a = await chat('anthropic', { model: 'claude@error=529' });
  assert.equal(a.status, 529);
  assert.equal(a.headers['retry-after'], undefined);
  assert.equal(JSON.parse(a.text).error.type, 'overloaded_error');

  const a429 = await chat('anthropic', { model: 'claude@error=429' });
  assert.equal(a429.headers['retry-after'], '1');
  assert.equal(JSON.parse(a429.text).error.type, 'rate_limit_error');

  const g = await chat('gemini', { model: 'gemini-2.0-flash@error=500', stream: true });
  assert.equal(g.status, 500);
  assert.equal(JSON.parse(g.text).error.status, 'INTERNAL');

  const o403 = await chat('openai', { model: 'm@error=403' });
  assert.equal(o403.status, 403);
  assert.ok(JSON.parse(o403.text).error.message);
});

test('X-Mock header wins over the model name; model suffix is stripped', async () => {
  const r = await chat('anthropic', { model: 'claude@error=500', headers: { 'x-mock': 'error=401' } });
  assert.equal(r.status, 401);
  assert.equal(JSON.parse(r.text).error.type, 'authentication_error');
  const ok = await chat('openai', { model: 'gpt-4o-mini@latency=1' });
  assert.equal(JSON.parse(ok.text).model, 'gpt-4o-mini');
});

test('error_times: only the first N identical requests fail', async () => {
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await chat('openai', { headers: { 'x-mock': 'error=503;error_times=2' } })).status);
  assert.deepEqual(statuses, [503, 503, 200]);
});

test('unknown switch or bad value is a 400 naming it', async () => {
  const r = await chat('openai', { headers: { 'x-mock': 'latnecy=5' } });
  assert.equal(r.status, 400);
  assert.match(JSON.parse(r.text).error.message, /latnecy/);
  const v = await chat('gemini', { model: 'g@cut=-1' });
  assert.equal(v.status, 400);
  assert.match(JSON.parse(v.text).error.message, /cut/);
});

test('latency delays the headers', async () => {
  const r = await chat('openai', { headers: { 'x-mock': 'latency=200' } });
  assert.equal(r.status, 200);
  assert.ok(r.ms >= 195, `took ${r.ms} ms`);
});

test('rate paces content chunks', async () => {
  const r = await chat('anthropic', { stream: true, headers: { 'x-mock': 'rate=20;tokens=5' } });
  assert.deepEqual(deltas('anthropic', parseSse(r.text).events), ['word1 ', 'word2 ', 'word3 ', 'word4 ', 'word5']);
  assert.ok(r.ms >= 4 * 50 - 5, `took ${r.ms} ms`);
});

test('drip writes one byte at a time', async () => {
  const r = await chat('gemini', { stream: true, headers: { 'x-mock': 'drip=1;reply=a%20%C3%A9' } });
  assert.ok(r.chunks.length > 100);
  assert.ok(r.chunks.every((c) => c.length === 1), 'every chunk is one byte');
  assert.deepEqual(deltas('gemini', parseSse(r.text).events), ['a ', 'é']);
});

test('malformed: broken JSON body, or one broken data line in a stream', async () => {
  const r = await chat('anthropic', { headers: { 'x-mock': 'malformed=1' } });
  assert.equal(r.status, 200);
  assert.throws(() => JSON.parse(r.text));

  const s = await chat('openai', { stream: true, headers: { 'x-mock': 'malformed=1' } });
  const { events } = parseSse(s.text);
  const broken = events.filter((e) => {
    try {
      JSON.parse(e.data);
      return false;
    } catch {
      return e.data !== '[DONE]';
    }
  });
  assert.equal(broken.length, 1);
  assert.deepEqual(deltas('openai', events.filter((e) => !broken.includes(e))), REPLY_CHUNKS);
});

test('cut: N chunks, then the connection closes without a terminator', async () => {
  const before = (await stats()).streams.cut;
  for (const kind of ['openai', 'anthropic', 'gemini']) {
    const r = await chat(kind, { stream: true, headers: { 'x-mock': 'cut=2' } });
    assert.equal(r.status, 200);
    assert.equal(r.complete, false, `${kind}: transfer is truncated`);
    const { events } = parseSse(r.text);
    assert.deepEqual(deltas(kind, events), REPLY_CHUNKS.slice(0, 2));
    assert.ok(!events.some((e) => e.data === '[DONE]' || e.event === 'message_stop'));
  }
  assert.equal((await stats()).streams.cut, before + 3);
});

test('stream_error: N chunks, then the dialect\'s in-stream error, then a clean end', async () => {
  const last = {};
  for (const kind of ['openai', 'anthropic', 'gemini']) {
    const r = await chat(kind, { stream: true, headers: { 'x-mock': 'stream_error=1' } });
    assert.equal(r.status, 200);
    assert.equal(r.complete, true);
    const { events } = parseSse(r.text);
    assert.deepEqual(deltas(kind, events.slice(0, -1)), REPLY_CHUNKS.slice(0, 1));
    last[kind] = events.at(-1);
  }
  assert.equal(JSON.parse(last.openai.data).error.type, 'server_error');
  assert.equal(last.anthropic.event, 'error');
  assert.equal(JSON.parse(last.anthropic.data).error.type, 'overloaded_error');
  assert.equal(JSON.parse(last.gemini.data).error.status, 'UNAVAILABLE');
});

test('keepalive interleaves comment lines', async () => {
  for (const kind of ['openai', 'gemini']) {
    const r = await chat(kind, { stream: true, headers: { 'x-mock': 'keepalive=1' } });
    const { events, comments } = parseSse(r.text);
    assert.equal(comments, events.length);
    assert.deepEqual(deltas(kind, events), REPLY_CHUNKS);
  }
});

test('reply and tokens replace the default text', async () => {
  const reply = 'Hello, world; "ok" é😀\nbye';
  const r = await chat('openai', { headers: { 'x-mock': `reply=${encodeURIComponent(reply)}` } });
  assert.equal(JSON.parse(r.text).choices[0].message.content, reply);
  const s = await chat('openai', { stream: true, headers: { 'x-mock': `reply=${encodeURIComponent(reply)}` } });
  assert.equal(deltas('openai', parseSse(s.text).events).join(''), reply);

  const t = await chat('gemini', { model: 'g@tokens=7' });
  const tj = JSON.parse(t.text);
  assert.equal(tj.candidates[0].content.parts[0].text, 'word1 word2 word3 word4 word5 word6 word7');
  assert.equal(tj.usageMetadata.candidatesTokenCount, 7);
});

test('usage=bytes counts UTF-8 bytes of every text and cuts the reply at max_tokens bytes', async () => {
  // Be brief. (9) + Hi (2) + Hello! (6) + Help? (5) bytes, 4 per message, 3 for the answer.
  const prompt = 9 + 2 + 6 + 5 + 4 * 4 + 3;
  for (const kind of ['openai', 'anthropic', 'gemini']) {
    const r = await chat(kind, { headers: { 'x-mock': 'usage=bytes' } });
    const j = JSON.parse(r.text);
    const usage = kind === 'openai' ? [j.usage.prompt_tokens, j.usage.completion_tokens]
      : kind === 'anthropic' ? [j.usage.input_tokens, j.usage.output_tokens]
        : [j.usageMetadata.promptTokenCount, j.usageMetadata.candidatesTokenCount];
    assert.deepEqual(usage, [prompt, Buffer.byteLength(REPLY)], kind);
  }
  // 日本 is 6 bytes for 2 characters; the reply stops at max_tokens (10) bytes, whole characters.
  const wide = await request('POST', '/v1/chat/completions', {
    headers: { 'content-type': 'application/json', ...AUTH.openai, 'x-mock': 'usage=bytes;reply=ab%F0%9F%98%80%F0%9F%98%80' },
    body: { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: '日本' }] },
  });
  const wj = JSON.parse(wide.text);
  assert.equal(wj.choices[0].message.content, 'ab😀😀');
  assert.deepEqual([wj.usage.prompt_tokens, wj.usage.completion_tokens], [6 + 4 + 3, 10]);
  const cut = await request('POST', '/v1/chat/completions', {
    headers: { 'content-type': 'application/json', ...AUTH.openai, 'x-mock': 'usage=bytes;reply=ab%F0%9F%98%80%F0%9F%98%80' },
    body: { model: 'gpt-4o-mini', max_tokens: 9, messages: [{ role: 'user', content: 'x' }] },
  });
  assert.equal(JSON.parse(cut.text).choices[0].message.content, 'ab😀');
});

test('forever streams the first chunk again and again until the client leaves', async () => {
  const before = await stats();
  let seen = 0;
  const r = await chat('openai', {
    stream: true,
    headers: { 'x-mock': 'forever=1' },
    onChunk: (c, req) => {
      seen += c.length;
      if (seen > 256 * 1024) req.destroy();
    },
  });
  assert.equal(r.complete, false);
  const texts = deltas('openai', parseSse(r.text).events);
  assert.ok(texts.length > 500, `only ${texts.length} chunks`);
  assert.ok(texts.every((t) => t === REPLY_CHUNKS[0]));
  let s;
  const deadline = Date.now() + 3000;
  do {
    s = await stats();
  } while (s.streams.aborted === before.streams.aborted && Date.now() < deadline);
  assert.equal(s.streams.aborted, before.streams.aborted + 1);
  const plain = await chat('openai', { headers: { 'x-mock': 'forever=1' } });
  assert.equal(plain.status, 400);
});

// ---- inspection endpoints ------------------------------------------------------------------

test('/_mock/last returns the last body per dialect; /_mock/reset clears it', async () => {
  for (const kind of ['openai', 'anthropic', 'gemini']) {
    const { path, body } = chatRequest(kind, { model: kind === 'gemini' ? 'gemini-2.5-pro' : undefined });
    await request('POST', path, { headers: AUTH[kind], body });
    const last = await getJson(`/_mock/last?kind=${kind}`);
    assert.equal(last.status, 200);
    assert.deepEqual(last.json, body);
    if (kind === 'gemini') assert.equal(last.headers['x-mock-path'], '/v1beta/models/gemini-2.5-pro:generateContent');
  }
  assert.equal((await request('GET', '/_mock/last?kind=other')).status, 400);
  assert.equal((await request('POST', '/_mock/reset')).status, 200);
  assert.equal((await request('GET', '/_mock/last?kind=openai')).status, 404);
});

test('/_mock/stats counts requests and streams the client abandoned', async () => {
  await request('POST', '/_mock/reset');
  await chat('openai');
  await chat('gemini', { stream: true });
  let s = await stats();
  assert.deepEqual(s.requests, { openai: 1, anthropic: 0, gemini: 1 });
  assert.deepEqual(s.streams, { started: 1, completed: 1, aborted: 0, cut: 0, active: 0 });

  // the client goes away after the first bytes of a slow stream
  const r = await chat('anthropic', { stream: true, headers: { 'x-mock': 'rate=2;tokens=20' }, onChunk: (_, req) => req.destroy() });
  assert.equal(r.complete, false);
  const deadline = Date.now() + 3000;
  do {
    s = await stats();
  } while ((s.streams.aborted === 0 || s.streams.active !== 0) && Date.now() < deadline);
  assert.deepEqual(s.streams, { started: 2, completed: 1, aborted: 1, cut: 0, active: 0 });
});

test('models lists', async () => {
  const o = await getJson('/v1/models', AUTH.openai);
  assert.equal(o.json.object, 'list');
  assert.ok(o.json.data.every((m) => m.object === 'model'));
  const a = await getJson('/v1/models', AUTH.anthropic);
  assert.ok(a.json.data.every((m) => m.type === 'model' && m.display_name));
  assert.equal(a.json.has_more, false);
  const g = await getJson(`/v1beta/models?key=${KEY}`);
  assert.ok(g.json.models.some((m) => m.supportedGenerationMethods.includes('generateContent')));
  assert.ok(g.json.models.some((m) => !m.supportedGenerationMethods.includes('generateContent')));
  assert.equal((await request('GET', '/v1/models')).status, 401);
  assert.equal((await request('GET', '/v1beta/models')).status, 400);
});

test('SIGTERM closes the server with exit code 0', async () => {
  // a stream in progress must not hold the shutdown up
  const pending = chat('openai', { stream: true, headers: { 'x-mock': 'rate=1;tokens=60' } }).catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 100));
  server.kill('SIGTERM');
  const [code, signal] = await once(server, 'exit');
  assert.deepEqual([code, signal], [0, null]);
  await pending;
});
