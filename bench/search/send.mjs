// bench/search, the send: non-streamed sends through the module (the user's
// message and the answer stored, as bench/chat (a) sends), in rounds with the
// search index (messages_owner_search, GIN over a million messages) and
// without it (dropped, then built again between rounds, untimed), in the order
// with, without, without, with, so drift hits both. Prints each kind's median
// and their ratio, and the noise: the ratio between the two rounds of the
// same kind. Asserts nothing.
import { execFileSync } from 'node:child_process';
import { median } from '../lib.mjs';

const [base, perRound = '200'] = process.argv.slice(2);
const sends = Number(perRound);
const headers = {
  'Content-Type': 'application/json',
  Authorization: 'Basic ' + Buffer.from('demo:demo').toString('base64'),
};
const psql = (sql) => execFileSync('psql', ['-X', '-q', '-At', '-c', sql], { encoding: 'utf8' });
const INDEX = 'CREATE INDEX IF NOT EXISTS messages_owner_search ON messages USING gin (owner_id, search)';

async function post(path, body, status) {
  const res = await fetch(`${base}/chat/api/v1${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== status) throw new Error(`POST ${path}: ${res.status} ${text.slice(0, 200)}`);
  return text;
}

/** One round: fresh conversations (untimed), then a send in each; the times. */
async function round(indexed) {
  psql(indexed ? INDEX : 'DROP INDEX IF EXISTS messages_owner_search');
  const convs = [];
  for (let i = 0; i < sends; i++) {
    convs.push(JSON.parse(await post('/conversations', { tools: ['gpt-4o-mini'] }, 201)).id);
  }
  const times = [];
  for (const id of convs) {
    const t = performance.now();
    await post(`/conversations/${id}/messages`, { content: 'please check the data report', parent_id: null, stream: false }, 201);
    times.push(performance.now() - t);
  }
  return median(times);
}

try {
  const order = [true, false, false, true];
  const got = { true: [], false: [] };
  for (const indexed of order) got[indexed].push(await round(indexed));
  const [w1, w2] = got.true;
  const [o1, o2] = got.false;
  const withIdx = (w1 + w2) / 2;
  const without = (o1 + o2) / 2;
  const ms = (x) => x.toFixed(2);
  console.log(`send through the module (${sends} a round, rounds with, without, without, with): ` +
    `median with the search index ${ms(w1)} and ${ms(w2)} ms, without ${ms(o1)} and ${ms(o2)} ms`);
  const noise = Math.max(Math.abs(w1 / w2 - 1), Math.abs(o1 / o2 - 1));
  console.log(`send: with / without ${(withIdx / without).toFixed(3)}; noise (rounds of the same kind) ` +
    `±${(noise * 100).toFixed(1)}%: ${Math.abs(withIdx / without - 1) <= noise ? 'within' : 'beyond'} the noise`);
} finally {
  psql(INDEX);
}
