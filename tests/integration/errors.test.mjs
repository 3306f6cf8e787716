// The error envelope for bad requests: unknown paths, wrong methods, bodies
// too large, of the wrong type, or not JSON objects. Every one of them is
// {"error":{"code","message"}} with the right status, never a 500, and
// never changes anything.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sql, dbUser } from '../lib/db.mjs';
import { assertError, assertJson, allowedMethods } from '../lib/assert.mjs';
import { MAX_BODY_SIZE } from '../lib/env.mjs';
import { DEMO } from '../lib/users.mjs';

after(async () => {
  await sql(`UPDATE users SET display_name = 'Demo User' WHERE username = 'demo'`);
});

/** PATCH /me as demo with this exact body and Content-Type. */
function patchMeRaw(raw, contentType = 'application/json') {
  const headers = contentType === null ? {} : { 'Content-Type': contentType };
  return api('PATCH', '/me', { ...DEMO, raw, headers });
}

/** Asserts that demo's row is the same after fn() as before. */
async function unchanged(fn) {
  const stored = await dbUser('demo');
  await fn();
  assert.deepEqual(await dbUser('demo'), stored, 'the request changed the user');
}

test('an unknown API path is 404 not_found', async () => {
  assertError(await api('GET', '/no-such-endpoint', DEMO), 404, 'not_found');
  assertError(await api('GET', '/me/no-such-child', DEMO), 404, 'not_found');
});

test('a method the path does not support is 405 with an Allow header', async () => {
  for (const method of ['DELETE', 'PUT', 'POST']) {
    const res = await api(method, '/me', { ...DEMO, body: {} });
    assertError(res, 405, 'method_not_allowed');
    const allowed = allowedMethods(res);
    assert.ok(allowed.includes('GET') && allowed.includes('PATCH'), `${method} /me: Allow: ${allowed}`);
    assert.ok(!allowed.includes(method), `${method} /me: Allow: ${allowed}`);
  }
});

test('a body of exactly the size limit is accepted', async () => {
  const json = '{"display_name":"Demo User"}';
  const body = json + ' '.repeat(MAX_BODY_SIZE - Buffer.byteLength(json));
  assert.equal(Buffer.byteLength(body), MAX_BODY_SIZE);
  assert.equal(assertJson(await patchMeRaw(body), 200).display_name, 'Demo User');
});

test('a body one byte over the limit is 413 body_too_large', async () => {
  await unchanged(async () => {
    const json = '{"display_name":"Too Large"}';
    const body = json + ' '.repeat(MAX_BODY_SIZE + 1 - Buffer.byteLength(json));
    assert.equal(Buffer.byteLength(body), MAX_BODY_SIZE + 1);
    assertError(await patchMeRaw(body), 413, 'body_too_large');
  });
});

test('a chunked body (no Content-Length) over the limit is 413 too', async () => {
  await unchanged(async () => {
    const chunk = new TextEncoder().encode(' '.repeat(8192));
    const chunks = [new TextEncoder().encode('{"display_name":"Too Large"}')];
    for (let size = 0; size <= MAX_BODY_SIZE; size += chunk.length) chunks.push(chunk);
    const stream = new ReadableStream({
      pull(controller) {
        if (chunks.length === 0) controller.close();
        else controller.enqueue(chunks.shift());
      },
    });
    assertError(await patchMeRaw(stream), 413, 'body_too_large');
  });
});

test('a body that is not JSON is 415 unsupported_media_type', async () => {
  await unchanged(async () => {
    const json = '{"display_name":"Not JSON"}';
    assertError(await patchMeRaw(json, 'text/plain'), 415, 'unsupported_media_type');
    assertError(await patchMeRaw('display_name=Not+JSON', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
  });
});

test('application/json with a charset parameter is accepted', async () => {
  const res = await patchMeRaw('{"display_name":"Demo User"}', 'application/json; charset=utf-8');
  assert.equal(assertJson(res, 200).display_name, 'Demo User');
});

const MALFORMED = [
  ['a truncated object', '{"display_name":'],
  ['plain text', 'not json'],
  ['a trailing comma', '{"display_name":"x",}'],
  ['two values', '{"display_name":"x"} {}'],
  ['an empty body', ''],
];

for (const [what, raw] of MALFORMED) {
  test(`${what} is 400 malformed_json`, async () => {
    await unchanged(async () => assertError(await patchMeRaw(raw), 400, 'malformed_json'));
  });
}

const NOT_OBJECTS = [
  ['an array', '[{"display_name":"x"}]'],
  ['a string', '"x"'],
  ['a number', '42'],
  ['null', 'null'],
];

for (const [what, raw] of NOT_OBJECTS) {
  test(`JSON that is ${what}, not an object, is 400 invalid_body`, async () => {
    await unchanged(async () => assertError(await patchMeRaw(raw), 400, 'invalid_body'));
  });
}

test('a body that is not UTF-8 is refused, not stored', async () => {
  await unchanged(async () => {
    const bytes = Buffer.concat([Buffer.from('{"display_name":"'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('"}')]);
    const res = await patchMeRaw(bytes);
    // RFC 8259 requires UTF-8, so this is not JSON text; a validator may
    // instead reject the decoded field. Either way a client error, not 500.
    if (res.status === 400) assertError(res, 400, 'malformed_json');
    else assertError(res, 422, 'invalid_field', 'display_name');
  });
});

test('a 422 names the offending field', async () => {
  const res = await api('PATCH', '/me', { ...DEMO, body: { display_name: 7 } });
  assertError(res, 422, 'invalid_field', 'display_name');
  const res2 = await api('PATCH', '/me', { ...DEMO, body: { favourite_colour: 'blue' } });
  assertError(res2, 422, 'unknown_field', 'favourite_colour');
});
