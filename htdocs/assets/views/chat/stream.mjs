// Streaming answers: POST with `Accept: text/event-stream`, read the body
// with a ReadableStream reader and feed it to a small SSE parser.
//
// The API's events (see the conversations contract): `start`, `delta`,
// `done`, `error` (one sequence per answering model) and finally `end`.
// Errors before the stream starts come back as ordinary JSON error answers
// and are thrown as ApiError, like api.mjs does for every other call (the
// `retryAfter` property carries a 429's Retry-After seconds).

import { API_BASE, ApiError, redirectToLogin, LOGIN_URL } from '../../api.mjs';

/**
 * Incremental parser for the text/event-stream format (the parts the API
 * uses: `event:`, `data:`, comments, blank-line dispatch; `id:`/`retry:` are
 * ignored). Lines may end in LF, CRLF or CR, split anywhere between chunks.
 */
export class SseParser {
  #buffer = '';
  #event = '';
  #data = [];
  #onEvent;

  /** @param {(event: {event: string, data: string}) => void} onEvent */
  constructor(onEvent) {
    this.#onEvent = onEvent;
  }

  /** Feed decoded text. */
  push(text) {
    this.#buffer += text;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.#buffer);
      if (!m) break;
      // A CR at the very end may be the first half of a CRLF: wait for more.
      if (m[0] === '\r' && m.index === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, m.index);
      this.#buffer = this.#buffer.slice(m.index + m[0].length);
      this.#line(line);
    }
  }

  /** The stream ended: a final event without its blank line is dropped, as the spec says. */
  end() {
    if (this.#buffer.endsWith('\r')) this.#line(this.#buffer.slice(0, -1));
    this.#buffer = '';
    this.#event = '';
    this.#data = [];
  }

  #line(line) {
    if (line === '') {
      if (this.#data.length) {
        this.#onEvent({ event: this.#event || 'message', data: this.#data.join('\n') });
      }
      this.#event = '';
      this.#data = [];
      return;
    }
    if (line.startsWith(':')) return; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
  }
}

async function toApiError(response) {
  let code = `http_${response.status}`;
  let message = response.statusText || `Request failed (HTTP ${response.status})`;
  let field;
  if (/json/i.test(response.headers.get('Content-Type') || '')) {
    try {
      const err = (await response.json())?.error;
      if (err && typeof err === 'object') {
        if (typeof err.code === 'string') code = err.code;
        if (typeof err.message === 'string') message = err.message;
        if (typeof err.field === 'string') field = err.field;
      }
    } catch {
      /* keep the generic message */
    }
  }
  const error = new ApiError(response.status, code, message, field);
  const retry = Number.parseInt(response.headers.get('Retry-After') || '', 10);
  if (Number.isFinite(retry) && retry >= 0) error.retryAfter = retry;
  return error;
}

/** A non-streamed answer (the server chose JSON): replay it as the events a stream would have sent. */
function replayJson(body, onEvent) {
  const emit = (event, data) => onEvent({ event, data });
  let first = true;
  for (const answer of Array.isArray(body?.answers) ? body.answers : []) {
    emit('start', {
      message_id: answer.id,
      parent_id: answer.parent_id,
      model: answer.sender?.slug,
      display_name: answer.sender?.display_name,
      is_first_responder: answer.is_first_responder,
      ...(first && body.user_message ? { user_message: body.user_message } : {}),
    });
    first = false;
    emit(answer.status === 'error' ? 'error' : 'done', {
      message_id: answer.id,
      model: answer.sender?.slug,
      message: answer,
      ...(answer.status === 'error' ? { error: { code: 'provider_error', message: answer.error } } : {}),
    });
  }
  emit('end', { credits: body?.credits });
}

/**
 * POST `body` to `path` (relative to /chat/api/v1/) asking for a stream, and
 * call onEvent({event, data}) for every event, `data` parsed from JSON.
 *
 * @returns {Promise<{ended: boolean}>} ended: the `end` event arrived
 * @throws {ApiError} for an error answer or a failed connection
 *         (DOMException AbortError when `signal` fired)
 */
export async function streamPost(path, body, { signal, onEvent }) {
  const url = new URL(path.replace(/^\/+/, ''), API_BASE);
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { Accept: 'text/event-stream', 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...body, stream: true }),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'network', 'Could not reach the server.');
  }

  if (
    response.status === 401 ||
    (response.redirected && new URL(response.url).pathname === LOGIN_URL.pathname)
  ) {
    redirectToLogin();
    throw new ApiError(401, 'unauthenticated', 'Not signed in');
  }
  if (!response.ok) throw await toApiError(response);

  let ended = false;
  const dispatch = ({ event, data }) => {
    let parsed;
    try {
      parsed = data === '' ? {} : JSON.parse(data);
    } catch {
      return; // a broken event is skipped; the final `done` carries the whole message anyway
    }
    if (event === 'end') ended = true;
    onEvent({ event, data: parsed });
  };

  const type = response.headers.get('Content-Type') || '';
  if (!/^text\/event-stream\b/i.test(type)) {
    let json;
    try {
      json = await response.json();
    } catch {
      throw new ApiError(response.status, 'bad_response', 'The server sent an unexpected answer.');
    }
    replayJson(json, (e) => {
      if (e.event === 'end') ended = true;
      onEvent(e);
    });
    return { ended };
  }

  const parser = new SseParser(dispatch);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const onAbort = () => reader.cancel().catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal?.aborted) throw signal.reason ?? err;
        throw new ApiError(0, 'network', 'The connection was lost before the answer was complete.');
      }
      if (chunk.done) break;
      parser.push(decoder.decode(chunk.value, { stream: true }));
      if (signal?.aborted) break;
    }
    parser.push(decoder.decode());
    parser.end();
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) throw signal.reason ?? new DOMException('Aborted', 'AbortError');
  return { ended };
}
