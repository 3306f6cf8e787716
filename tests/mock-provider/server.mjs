#!/usr/bin/env node
// Mock LLM provider for mod_aichat's tests and benchmarks.
//
// Speaks the OpenAI Chat Completions, Anthropic Messages and Gemini generateContent wire protocols
// on their real paths, so one base URL serves all three kinds. Replies are deterministic
// ("Mock reply to: <last user text>") and failure modes are chosen per request by "switches" given
// in the model name (`model@key=value;key=value`) or in the `X-Mock` header. See README.md.
//
// Plain Node.js 20, no dependencies. The hot path (a valid request without pacing switches) does
// one JSON parse, builds the answer as one string and writes it with a single res.end().

import http from 'node:http';
import { parseArgs } from 'node:util';

// ---- configuration -------------------------------------------------------------------------

const USAGE = 'usage: node server.mjs [--port N] [--host ADDR] [--key KEY]   (env MOCK_PORT, MOCK_HOST, MOCK_KEY, MOCK_VERBOSE=1)';
let cli;
try {
  ({ values: cli } = parseArgs({
    options: { port: { type: 'string' }, host: { type: 'string' }, key: { type: 'string' }, help: { type: 'boolean' } },
  }));
} catch (e) {
  console.error(`mock-provider: ${e.message}\n${USAGE}`);
  process.exit(2);
}
if (cli.help) {
  console.log(USAGE);
  process.exit(0);
}
const PORT = Number(cli.port ?? process.env.MOCK_PORT ?? 18081);
const HOST = cli.host ?? process.env.MOCK_HOST ?? '127.0.0.1';
const KEY = cli.key ?? process.env.MOCK_KEY ?? 'mock-key';
const VERBOSE = process.env.MOCK_VERBOSE === '1';
const MAX_BODY = 32 * 1024 * 1024; // Anthropic's documented request limit

if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) {
  console.error(`mock-provider: invalid port '${cli.port ?? process.env.MOCK_PORT}'`);
  process.exit(2);
}

// ---- state exposed under /_mock/ -----------------------------------------------------------

const KINDS = ['openai', 'anthropic', 'gemini'];
let stats;
let lastRequest; // kind -> { path, raw }: the raw body exactly as received
let errorTimes; // switch set -> how many errors it has produced (for error_times=N)
let activeStreams = 0; // not reset by /_mock/reset: those streams are still running
let seq = 0; // makes ids unique

function resetState() {
  stats = {
    requests: { openai: 0, anthropic: 0, gemini: 0 },
    streams: { started: 0, completed: 0, aborted: 0, cut: 0 },
    head: {},
  };
  lastRequest = {};
  errorTimes = new Map();
}
resetState();

// ---- switches ------------------------------------------------------------------------------

class SwitchError extends Error {}

function intIn(min, max) {
  return (s) => {
    const n = Number(s);
    if (s === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new SwitchError(`expected an integer in ${min}..${max}`);
    }
    return n;
  };
}
const MS = intIn(0, 3_600_000);
const COUNT = intIn(0, 1_000_000);
const FLAG = intIn(0, 1);

const SWITCHES = {
  error: intIn(400, 599),
  error_times: COUNT,
  latency: MS,
  rate: (s) => {
    const n = Number(s);
    if (s === '' || !(n > 0) || !Number.isFinite(n)) throw new SwitchError('expected a number > 0');
    return n;
  },
  drip: MS,
  malformed: FLAG,
  cut: COUNT,
  stream_error: COUNT,
  keepalive: FLAG,
  reply: (s) => s,
  tokens: COUNT,
  usage: (s) => {
    if (s !== 'bytes') throw new SwitchError("expected 'bytes'");
    return s;
  },
  forever: FLAG,
  echo_key: FLAG,
};

/** Parses `key=value;key=value` (values URL-encoded) into `into`; throws SwitchError. */
function parseSwitches(spec, into) {
  for (const item of spec.split(';')) {
    if (item.trim() === '') continue;
    const eq = item.indexOf('=');
    const name = (eq < 0 ? item : item.slice(0, eq)).trim();
    const check = SWITCHES[name];
    if (!check) throw new SwitchError(`mock-provider: unknown switch '${name}'`);
    if (eq < 0) throw new SwitchError(`mock-provider: switch '${name}' needs a value (${name}=...)`);
    let value;
    try {
      value = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      throw new SwitchError(`mock-provider: switch '${name}': bad URL encoding`);
    }
    try {
      into[name] = check(value);
    } catch (e) {
      throw new SwitchError(`mock-provider: switch '${name}': ${e.message}`);
    }
  }
  return into;
}

// ---- request content helpers ---------------------------------------------------------------

/** Text of an OpenAI/Anthropic content value (string or array of parts), Gemini parts array. */
function textOf(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let s = '';
  for (const part of content) if (part && typeof part.text === 'string') s += part.text;
  return s;
}

/** Characters as Unicode code points, so the count does not depend on UTF-16 or UTF-8. */
function charCount(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++; // low surrogates belong to the preceding code point
  }
  return n;
}

const promptTokens = (chars) => Math.max(1, Math.ceil(chars / 4));

// usage=bytes: what a byte-level tokenizer makes at most of a request: one token per UTF-8 byte
// of every text, plus the role tokens OpenAI documents (up to 4 per message, 3 to start the
// answer); an answer of at most max_tokens such tokens.
const BYTES_PER_MESSAGE = 4;
const BYTES_ANSWER_START = 3;
const utf8Bytes = (s) => Buffer.byteLength(s, 'utf8');
const bytesPromptTokens = (texts) =>
  texts.reduce((sum, t) => sum + utf8Bytes(t) + BYTES_PER_MESSAGE, BYTES_ANSWER_START);

/** The longest start of text with at most max UTF-8 bytes (whole code points). */
function cutBytes(text, max) {
  let bytes = 0;
  let out = '';
  for (const c of text) {
    bytes += utf8Bytes(c);
    if (bytes > max) break;
    out += c;
  }
  return out;
}

// ---- protocols -----------------------------------------------------------------------------
// Each protocol turns a parsed request into a neutral "turn" ({ model, stream, lastUser, chars,
// texts: every input text, the system prompt included, maxTokens: the answer's limit or undefined})
// or a rejection, and renders answers, errors and stream events in its own dialect.

const SSE_LF = (data) => `data: ${data}\n\n`;

const openai = {
  kind: 'openai',
  sseType: 'text/event-stream; charset=utf-8',
  keepalive: ': keep-alive\n\n',

  // messages of the real API for the statuses the `error` switch is mostly used with
  messages: {
    401: 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
    429: 'Rate limit reached for requests. Please try again in 1s.',
    500: 'The server had an error while processing your request. Sorry about that!',
  },

  authorized: (req) => req.headers.authorization === `Bearer ${KEY}`,
  authError(req) {
    return this.error(401, req.headers.authorization
      ? this.messages[401]
      : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
  },

  error(status, message) {
    const [type, code] =
      status === 401 ? ['invalid_request_error', 'invalid_api_key']
      : status === 403 ? ['request_forbidden', 'unsupported_country_region_territory']
      : status === 404 ? ['invalid_request_error', 'model_not_found']
      : status === 429 ? ['requests', 'rate_limit_exceeded']
      : status >= 500 ? ['server_error', null]
      : ['invalid_request_error', null];
    return { status, body: JSON.stringify({ error: { message, type, param: null, code } }) };
  },

  parse(body) {
    if (typeof body.model !== 'string' || body.model === '') return 'you must provide a model parameter';
    if (!Array.isArray(body.messages)) return "Missing required parameter: 'messages'.";
    if (body.stream_options != null && body.stream !== true) {
      return "The 'stream_options' parameter is only allowed when 'stream' is enabled.";
    }
    let chars = 0;
    let lastUser = '';
    const texts = [];
    for (const m of body.messages) {
      if (!m || !['system', 'developer', 'user', 'assistant', 'tool', 'function'].includes(m.role)) {
        return `Invalid value: '${m?.role}'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool', and 'function'.`;
      }
      const text = textOf(m.content);
      chars += charCount(text);
      texts.push(text);
      if (m.role === 'user') lastUser = text;
    }
    const maxTokens = body.max_completion_tokens ?? body.max_tokens;
    return { model: body.model, stream: body.stream === true, lastUser, chars, texts, maxTokens };
  },

  usage(t) {
    return {
      prompt_tokens: t.promptTokens,
      completion_tokens: t.completionTokens,
      total_tokens: t.promptTokens + t.completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0,
      },
    };
  },

  complete(t) {
    return JSON.stringify({
      id: t.id, object: 'chat.completion', created: t.created, model: t.model,
      choices: [{
        index: 0,
        message: { role: 'assistant', content: t.reply, refusal: null, annotations: [] },
        logprobs: null, finish_reason: 'stop',
      }],
      usage: this.usage(t),
      service_tier: 'default', system_fingerprint: 'fp_mock',
    });
  },

  stream(t, body) {
    const includeUsage = body.stream_options?.include_usage === true;
    const obfuscate = body.stream_options?.include_obfuscation !== false;
    // Field order and presence as in samples/openai-stream.txt; `usage: null` on every chunk only
    // when a usage chunk follows.
    const chunk = (choices, usage) => {
      const c = {
        id: t.id, object: 'chat.completion.chunk', created: t.created, model: t.model,
        service_tier: 'default', system_fingerprint: 'fp_mock', choices,
      };
      if (includeUsage) c.usage = usage;
      if (obfuscate) c.obfuscation = 'mock';
      return JSON.stringify(c);
    };
    const delta = (d, finish) => chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }], null);
    const tail = [SSE_LF(delta({}, 'stop'))];
    if (includeUsage) tail.push(SSE_LF(chunk([], this.usage(t))));
    tail.push(SSE_LF('[DONE]'));
    return {
      head: [SSE_LF(delta({ role: 'assistant', content: '', refusal: null }, null))],
      content: t.chunks.map(textTemplate((text) => SSE_LF(delta({ content: text }, null)))),
      tail,
      malformed: SSE_LF(halve(delta({ content: t.chunks[0] ?? '' }, null))),
      error: SSE_LF(JSON.stringify({
        error: {
          message: this.messages[500], type: 'server_error', param: null, code: null,
        },
      })),
    };
  },
};

const ANTHROPIC_ERRORS = {
  400: 'invalid_request_error', 401: 'authentication_error', 402: 'billing_error',
  403: 'permission_error', 404: 'not_found_error', 413: 'request_too_large',
  429: 'rate_limit_error', 500: 'api_error', 504: 'timeout_error', 529: 'overloaded_error',
};
const ANTHROPIC_EVENT = (name, obj) => `event: ${name}\ndata: ${JSON.stringify(obj)}\n\n`;

const anthropic = {
  kind: 'anthropic',
  sseType: 'text/event-stream; charset=utf-8',
  keepalive: ': keep-alive\n\n',

  messages: {
    401: 'invalid x-api-key',
    429: 'Number of request tokens has exceeded your per-minute rate limit',
    500: 'Internal server error',
    529: 'Overloaded',
  },

  authorized: (req) => req.headers['x-api-key'] === KEY,
  authError(req) {
    return this.error(401, req.headers['x-api-key'] ? this.messages[401] : 'x-api-key header is required');
  },

  error(status, message) {
    const type = ANTHROPIC_ERRORS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    const requestId = `req_mock${++seq}`;
    return {
      status,
      headers: { 'request-id': requestId },
      body: JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId }),
    };
  },

  parse(body, req) {
    if (!req.headers['anthropic-version']) return 'anthropic-version: header is required';
    if (typeof body.model !== 'string' || body.model === '') return 'model: Field required';
    if (body.max_tokens === undefined) return 'max_tokens: Field required';
    if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) return 'max_tokens: Input should be a valid integer >= 1';
    if (!Array.isArray(body.messages)) return 'messages: Field required';
    let chars = charCount(textOf(body.system));
    let lastUser = '';
    const texts = textOf(body.system) ? [textOf(body.system)] : [];
    for (const m of body.messages) {
      if (m?.role !== 'user' && m?.role !== 'assistant') {
        return `messages: Unexpected role "${m?.role}". The Messages API accepts a top-level \`system\` parameter, not "system" as an input message role.`;
      }
      const text = textOf(m.content);
      chars += charCount(text);
      texts.push(text);
      if (m.role === 'user') lastUser = text;
    }
    return { model: body.model, stream: body.stream === true, lastUser, chars, texts, maxTokens: body.max_tokens };
  },

  complete(t) {
    return JSON.stringify({
      id: t.id, type: 'message', role: 'assistant', model: t.model,
      content: [{ type: 'text', text: t.reply }],
      stop_reason: 'end_turn', stop_sequence: null,
      usage: {
        input_tokens: t.promptTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0,
        output_tokens: t.completionTokens,
      },
    });
  },

  stream(t) {
    const delta = (text) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
    return {
      head: [
        ANTHROPIC_EVENT('message_start', {
          type: 'message_start',
          message: {
            id: t.id, type: 'message', role: 'assistant', model: t.model, content: [],
            stop_reason: null, stop_sequence: null,
            usage: {
              input_tokens: t.promptTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0,
              output_tokens: Math.min(1, t.completionTokens), // the real API reports a small start value
              service_tier: 'standard',
            },
          },
        }),
        ANTHROPIC_EVENT('content_block_start', {
          type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' },
        }),
        'event: ping\ndata: {"type": "ping"}\n\n', // spacing as sent by the real API
      ],
      content: t.chunks.map(textTemplate((text) => ANTHROPIC_EVENT('content_block_delta', delta(text)))),
      tail: [
        ANTHROPIC_EVENT('content_block_stop', { type: 'content_block_stop', index: 0 }),
        ANTHROPIC_EVENT('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: 'end_turn', stop_sequence: null },
          usage: { output_tokens: t.completionTokens }, // cumulative
        }),
        ANTHROPIC_EVENT('message_stop', { type: 'message_stop' }),
      ],
      malformed: `event: content_block_delta\ndata: ${halve(JSON.stringify(delta(t.chunks[0] ?? '')))}\n\n`,
      error: ANTHROPIC_EVENT('error', { type: 'error', error: { type: 'overloaded_error', message: this.messages[529] } }),
    };
  },
};

const GEMINI_STATUS = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND',
  409: 'ABORTED', 429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED', 500: 'INTERNAL', 501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED', 529: 'UNAVAILABLE',
};
const SSE_CRLF = (data) => `data: ${data}\r\n\r\n`;

const gemini = {
  kind: 'gemini',
  sseType: 'text/event-stream',
  keepalive: ': keep-alive\r\n\r\n',
  messages: {
    401: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
    429: 'Resource has been exhausted (e.g. check quota).',
    500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
    503: 'The model is overloaded. Please try again later.',
  },

  authorized: (req, query) =>
    (req.headers['x-goog-api-key'] ?? (query ? new URLSearchParams(query).get('key') : null)) === KEY,
  // The real API answers a bad or missing key with 400, not 401.
  authError() {
    return this.error(400, 'API key not valid. Please pass a valid API key.', [{
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    }]);
  },

  // Google's error bodies are pretty-printed over several lines.
  error(status, message, details) {
    const error = { code: status, message, status: GEMINI_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION') };
    if (details) error.details = details;
    return { status, body: JSON.stringify({ error }, null, 2) };
  },

  parse(body, req, route) {
    if (route.stream && route.alt !== 'sse') {
      return 'mock-provider: streamGenerateContent is supported only with ?alt=sse';
    }
    if (!Array.isArray(body.contents)) return '* GenerateContentRequest.contents: contents is not specified';
    const system = body.systemInstruction ?? body.system_instruction;
    let chars = charCount(textOf(system?.parts));
    let lastUser = '';
    const texts = textOf(system?.parts) ? [textOf(system?.parts)] : [];
    for (const c of body.contents) {
      if (c === null || typeof c !== 'object') return '* GenerateContentRequest.contents: invalid content';
      // a missing role means "user" in single-turn requests
      if (c.role !== undefined && c.role !== 'user' && c.role !== 'model') return 'Please use a valid role: user, model.';
      const text = textOf(c.parts);
      chars += charCount(text);
      texts.push(text);
      if (c.role !== 'model') lastUser = text;
    }
    const maxTokens = (body.generationConfig ?? body.generation_config)?.maxOutputTokens;
    return { model: route.model, stream: route.stream, lastUser, chars, texts, maxTokens };
  },

  response(t, text, last) {
    const details = [{ modality: 'TEXT', tokenCount: t.promptTokens }];
    // Like the real stream: running usage without candidatesTokenCount, the full one at the end.
    const usageMetadata = last
      ? {
        promptTokenCount: t.promptTokens, candidatesTokenCount: t.completionTokens,
        totalTokenCount: t.promptTokens + t.completionTokens, promptTokensDetails: details,
        candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: t.completionTokens }],
      }
      : { promptTokenCount: t.promptTokens, totalTokenCount: t.promptTokens, promptTokensDetails: details };
    const candidate = { content: { parts: [{ text }], role: 'model' } };
    if (last) candidate.finishReason = 'STOP';
    candidate.index = 0;
    return JSON.stringify({ candidates: [candidate], usageMetadata, modelVersion: t.model, responseId: t.id });
  },

  complete(t) {
    return this.response(t, t.reply, true);
  },

  // No head or tail: every event is a complete response, the last one carries finishReason and
  // the final usage, and the end of the stream is the end of the body. An empty reply still
  // gets that final event (with an empty text part).
  stream(t) {
    const texts = t.chunks.length ? t.chunks : [''];
    const content = texts.slice(0, -1).map(textTemplate((text) => SSE_CRLF(this.response(t, text, false))));
    content.push(SSE_CRLF(this.response(t, texts.at(-1), true)));
    return {
      head: [],
      content,
      tail: [],
      malformed: SSE_CRLF(halve(this.response(t, texts[0], false))),
      error: SSE_CRLF(JSON.stringify({
        error: { code: 503, message: this.messages[503], status: 'UNAVAILABLE' },
      })),
    };
  },
};

/**
 * Speeds up rendering of content events, which differ only in their text: renders one event around
 * a marker and returns a function that splices each text (as a JSON string) in its place.
 */
function textTemplate(render) {
  const mark = JSON.stringify('\u0000mock-text\u0000');
  const event = render(JSON.parse(mark));
  const at = event.lastIndexOf(mark);
  const pre = event.slice(0, at);
  const post = event.slice(at + mark.length);
  return (text) => pre + JSON.stringify(text) + post;
}

/** First half of a JSON text: never valid JSON, still looks like the real thing. */
function halve(json) {
  return json.slice(0, json.length >> 1);
}

// ---- models lists --------------------------------------------------------------------------

const MODELS = {
  openai: JSON.stringify({
    object: 'list',
    data: ['gpt-4o-mini', 'gpt-4o', 'mock-model'].map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' })),
  }),
  anthropic: JSON.stringify({
    data: [
      { type: 'model', id: 'claude-sonnet-4-20250514', display_name: 'Claude Sonnet 4', created_at: '2025-05-22T00:00:00Z' },
      { type: 'model', id: 'claude-3-5-haiku-20241022', display_name: 'Claude Haiku 3.5', created_at: '2024-10-22T00:00:00Z' },
    ],
    has_more: false, first_id: 'claude-sonnet-4-20250514', last_id: 'claude-3-5-haiku-20241022',
  }),
  // includes an embedding-only model, which a client listing chat models must filter out
  gemini: JSON.stringify({
    models: [
      ['gemini-2.0-flash', 'Gemini 2.0 Flash', ['generateContent', 'countTokens']],
      ['gemini-2.5-pro', 'Gemini 2.5 Pro', ['generateContent', 'countTokens']],
      ['text-embedding-004', 'Text Embedding 004', ['embedContent']],
    ].map(([id, displayName, supportedGenerationMethods]) => ({
      name: `models/${id}`, displayName, inputTokenLimit: 1048576, outputTokenLimit: 8192, supportedGenerationMethods,
    })),
  }),
};

// ---- responses -----------------------------------------------------------------------------

const JSON_TYPE = 'application/json';

/** Reason phrase; 529 is Anthropic's own code, unknown to Node. */
const reason = (status) => http.STATUS_CODES[status] ?? (status === 529 ? 'Overloaded' : 'Error');

function send(res, status, body, headers) {
  res.writeHead(status, reason(status), { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendError(res, e) {
  send(res, e.status, e.body, e.status === 429 ? { 'retry-after': '1', ...e.headers } : e.headers);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- chat requests -------------------------------------------------------------------------

/**
 * Common flow of the three chat endpoints. `route` holds what the path says: for Gemini the model
 * and whether it is the streaming method.
 */
function handleChat(proto, req, res, route, query) {
  stats.requests[proto.kind]++;
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= MAX_BODY) chunks.push(c);
  });
  req.on('end', () => {
    if (size > MAX_BODY) return sendError(res, proto.error(413, 'Request body too large (mock-provider limit 32 MiB)'));
    const raw = chunks.length === 1 ? chunks[0].toString() : Buffer.concat(chunks).toString();
    lastRequest[proto.kind] = { path: route.path, raw }; // recorded even if rejected below
    if (!proto.authorized(req, query)) return sendError(res, proto.authError(req));

    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return sendError(res, proto.error(400, 'We could not parse the JSON body of your request.'));
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return sendError(res, proto.error(400, 'The request body must be a JSON object.'));
    }
    const turn = proto.parse(body, req, route);
    if (typeof turn === 'string') return sendError(res, proto.error(400, turn));

    // Switches: model suffix first, then the header, so the header wins key by key.
    const at = turn.model.indexOf('@');
    const modelSpec = at < 0 ? '' : turn.model.slice(at + 1);
    const headerSpec = req.headers['x-mock'] ?? '';
    let sw;
    try {
      sw = parseSwitches(headerSpec, parseSwitches(modelSpec, {}));
    } catch (e) {
      if (e instanceof SwitchError) return sendError(res, proto.error(400, e.message));
      throw e;
    }
    if (at >= 0) turn.model = turn.model.slice(0, at);

    if (sw.error !== undefined && errorDue(proto.kind, modelSpec, headerSpec, sw)) {
      let message = proto.messages[sw.error] ?? `${reason(sw.error)} (mock-provider error=${sw.error})`;
      // Some real servers quote the key they were sent.
      if (sw.echo_key) message += ` (you sent: ${KEY})`;
      const e = proto.error(sw.error, message);
      return later(res, sw.latency, () => sendError(res, e));
    }

    if (sw.forever && !turn.stream) {
      return sendError(res, proto.error(400, "mock-provider: switch 'forever' needs a streaming request"));
    }
    const t = buildTurn(proto, turn, sw);
    if (!turn.stream) {
      const out = sw.malformed ? halve(proto.complete(t)) : proto.complete(t);
      return later(res, sw.latency, () => send(res, 200, out));
    }
    startStream(proto, res, t, body, sw);
  });
}

/** With error_times=N only the first N requests carrying the same switches fail. */
function errorDue(kind, modelSpec, headerSpec, sw) {
  if (sw.error_times === undefined) return true;
  const key = `${kind}\n${modelSpec}\n${headerSpec}`;
  const n = errorTimes.get(key) ?? 0;
  if (n >= sw.error_times) return false;
  errorTimes.set(key, n + 1);
  return true;
}

/** Runs `fn` after `ms` (if any) unless the client went away meanwhile. */
function later(res, ms, fn) {
  if (!ms) return fn();
  setTimeout(() => {
    if (!res.destroyed) fn();
  }, ms);
}

function buildTurn(proto, turn, sw) {
  let reply;
  if (sw.reply !== undefined) reply = sw.reply;
  else if (sw.tokens !== undefined) reply = Array.from({ length: sw.tokens }, (_, i) => `word${i + 1}`).join(' ');
  else reply = `Mock reply to: ${turn.lastUser}`;
  const bytes = sw.usage === 'bytes';
  if (bytes && Number.isInteger(turn.maxTokens) && turn.maxTokens > 0) reply = cutBytes(reply, turn.maxTokens);
  // Word-sized chunks that keep all whitespace, so their concatenation is the reply.
  const chunks = reply.match(/\s*\S+\s*/g) ?? (reply ? [reply] : []);
  const n = ++seq;
  return {
    id: proto === openai ? `chatcmpl-mock${n}` : proto === anthropic ? `msg_mock${n}` : `mock${n}`,
    created: Math.floor(Date.now() / 1000),
    model: turn.model,
    reply,
    chunks,
    promptTokens: bytes ? bytesPromptTokens(turn.texts) : promptTokens(turn.chars),
    completionTokens: bytes ? utf8Bytes(reply) : chunks.length,
  };
}

// ---- streaming -----------------------------------------------------------------------------

/**
 * Lays the stream out as pieces ({ data, content }) from the protocol's events and the switches.
 * `cut` and `stream_error` count content events (text deltas), so N=0 means right after the
 * preamble, and N >= number of chunks means after the last delta, before the closing events.
 */
function layout(plan, sw, keepalive) {
  const pieces = [];
  const push = (data, content) => {
    if (sw.keepalive) pieces.push({ data: keepalive, content: false });
    pieces.push({ data, content });
  };
  for (const d of plan.head) push(d, false);
  if (sw.malformed) push(plan.malformed, false);
  for (let i = 0; i <= plan.content.length; i++) {
    if (i === sw.cut) return { pieces, cut: true };
    if (i === sw.stream_error) {
      push(plan.error, false);
      return { pieces, cut: false };
    }
    if (i < plan.content.length) push(plan.content[i], true);
  }
  for (const d of plan.tail) push(d, false);
  return { pieces, cut: false };
}

function startStream(proto, res, t, body, sw) {
  const { pieces, cut } = layout(proto.stream(t, body), sw, proto.keepalive);
  stats.streams.started++;
  activeStreams++;
  let finished = false; // we ended or cut it ourselves; any other close is the client's doing
  res.on('close', () => {
    activeStreams--;
    if (!finished) stats.streams.aborted++;
  });
  const finish = (data) => {
    finished = true;
    if (cut) {
      stats.streams.cut++;
      if (data) res.write(data);
      // FIN after the queued data but no terminating chunk: the client sees a truncated transfer
      res.socket?.end(); // (no socket: the client is already gone)
    } else {
      stats.streams.completed++;
      res.end(data);
    }
  };

  later(res, sw.latency, () => {
    res.writeHead(200, { 'content-type': proto.sseType, 'cache-control': 'no-cache' });
    if (sw.forever) return endless(res, pieces, sw);
    if (!sw.rate && !sw.drip) return finish(pieces.map((p) => p.data).join(''));
    paced(res, pieces, sw).then((ok) => ok && finish(''));
  });
}

/**
 * forever=1: the pieces before the first content event, then the first content event again and
 * again (`rate` per second, else as fast as the client reads) until the client goes away.
 */
async function endless(res, pieces, sw) {
  const first = pieces.findIndex((p) => p.content);
  if (first < 0) return res.end(pieces.map((p) => p.data).join(''));
  res.write(pieces.slice(0, first).map((p) => p.data).join(''));
  const gap = sw.rate ? 1000 / sw.rate : 0;
  const drained = () => new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
  while (!res.destroyed) {
    if (gap) await sleep(gap);
    if (res.destroyed) break;
    if (!res.write(pieces[first].data)) await drained();
  }
}

/** Writes pieces with `rate` content chunks per second and/or one byte every `drip` ms. */
async function paced(res, pieces, sw) {
  const gap = sw.rate ? 1000 / sw.rate : 0;
  let contentSeen = false;
  for (const p of pieces) {
    if (p.content && gap) {
      if (contentSeen) await sleep(gap);
      contentSeen = true;
    }
    if (res.destroyed) return false;
    if (!sw.drip) {
      res.write(p.data);
      continue;
    }
    const bytes = Buffer.from(p.data);
    for (let i = 0; i < bytes.length; i++) {
      if (res.destroyed) return false;
      res.write(bytes.subarray(i, i + 1));
      await sleep(sw.drip);
    }
  }
  return !res.destroyed;
}

// ---- routing -------------------------------------------------------------------------------

function handle(req, res) {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);

  if (req.method === 'HEAD') {
    // Reachability probes: counted by path, answered like a server with nothing there.
    stats.head[path] = (stats.head[path] ?? 0) + 1;
    return send(res, 404, '');
  }

  if (req.method === 'POST') {
    if (path === '/v1/chat/completions') return handleChat(openai, req, res, { path }, query);
    if (path === '/v1/messages') return handleChat(anthropic, req, res, { path }, query);
    if (path.startsWith('/v1beta/models/')) {
      const colon = path.lastIndexOf(':');
      const method = path.slice(colon + 1);
      if (colon > 0 && (method === 'generateContent' || method === 'streamGenerateContent')) {
        let model;
        try {
          model = decodeURIComponent(path.slice('/v1beta/models/'.length, colon));
        } catch {
          return sendError(res, gemini.error(400, 'Invalid model name encoding.'));
        }
        const stream = method === 'streamGenerateContent';
        const alt = stream && query ? new URLSearchParams(query).get('alt') : null;
        return handleChat(gemini, req, res, { path, model, stream, alt }, query);
      }
    }
    if (path === '/_mock/reset') {
      resetState();
      return send(res, 200, '{"status":"reset"}');
    }
  } else if (req.method === 'GET') {
    if (path === '/health') return send(res, 200, '{"status":"ok"}');
    if (path === '/v1/models') {
      // One path, two providers: Anthropic clients identify themselves by their headers.
      const proto = req.headers['anthropic-version'] || req.headers['x-api-key'] ? anthropic : openai;
      if (!proto.authorized(req, query)) return sendError(res, proto.authError(req));
      return send(res, 200, MODELS[proto.kind]);
    }
    if (path === '/v1beta/models') {
      if (!gemini.authorized(req, query)) return sendError(res, gemini.authError());
      return send(res, 200, MODELS.gemini);
    }
    if (path === '/_mock/stats') {
      return send(res, 200, JSON.stringify({ ...stats, streams: { ...stats.streams, active: activeStreams } }));
    }
    if (path === '/_mock/last') {
      const kind = new URLSearchParams(query).get('kind');
      if (!KINDS.includes(kind)) return send(res, 400, '{"error":"kind must be openai, anthropic or gemini"}');
      const last = lastRequest[kind];
      if (!last) return send(res, 404, JSON.stringify({ error: `no ${kind} request recorded` }));
      return send(res, 200, last.raw, { 'x-mock-path': last.path });
    }
  }
  send(res, 404, JSON.stringify({ error: `mock-provider: no route for ${req.method} ${path}` }));
}

// ---- server --------------------------------------------------------------------------------

const server = http.createServer(VERBOSE ? logged : handle);
server.keepAliveTimeout = 65_000; // keep benchmark connections open between bursts

function logged(req, res) {
  const start = process.hrtime.bigint();
  res.on('close', () => {
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const url = req.url.replace(/([?&]key=)[^&]*/, '$1***');
    const how = res.writableFinished ? '' : ' (closed early)';
    console.error(`${new Date().toISOString()} ${req.method} ${url} ${res.statusCode} ${ms.toFixed(1)}ms${how}`);
  });
  handle(req, res);
}

server.on('error', (e) => {
  console.error(`mock-provider: ${e.message}`);
  process.exit(1);
});

server.listen(PORT, HOST, () => {
  const { port } = server.address();
  const host = HOST.includes(':') ? `[${HOST}]` : HOST;
  console.log(`mock-provider listening on http://${host}:${port}`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // also ends streams that are still dripping
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
