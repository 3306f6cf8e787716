// bench/search, the send: non-streamed sends through the module (the user's
// message and the answer stored, as bench/chat (a) sends), in rounds with the
// search index (messages_owner_search, GIN over a million messages) and
// without it (dropped, then built again between rounds, untimed), in the order
// with, without, without, with, ... so drift hits both. Prints each round's
// median, the ratio of the two kinds, and the noise: how far apart rounds of
// the same kind were. Asserts nothing.
import { execFileSync } from 'node:child_process';
import { median } from '../lib.mjs';

const [base, perRound = '200', roundCount = '8'] = process.argv.slice(2);
const sends = Number(perRound);
const rounds = Number(roundCount);
const headers = {
  'Content-Type': 'application/json',
  Authorization: 'Basic ' + Buffer.from('demo:demo').toString('base64'),
};
const psql = (sql) => execFileSync('psql', ['-X', '-q', '-At', '-c', sql], { encoding: 'utf8' });
const INDEX = 'CREATE INDEX IF NOT EXISTS messages_owner_search ON messages USING gin (owner_id, search)';
const ms = (x) => x.toFixed(2);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function post(path, body, status, retry = false) {
  let res;
  try {
    res = await fetch(`${base}/chat/api/v1${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  } catch (e) {
    // Untimed set-up after an index build: a keep-alive connection httpd
    // closed meanwhile costs one retry.
    if (retry && e.cause?.code === 'UND_ERR_SOCKET') return post(path, body, status);
    throw e;
  }
  const text = await res.text();
  if (res.status !== status) throw new Error(`POST ${path}: ${res.status} ${text.slice(0, 200)}`);
  return text;
}

/** One round: fresh conversations (untimed), then a send in each; the median. */
async function round(indexed) {
  psql(indexed ? INDEX : 'DROP INDEX IF EXISTS messages_owner_search');
  // The build's pages written out before the round, not during it.
  execFileSync('psql', ['-X', '-q', '-U', 'postgres', '-c', 'CHECKPOINT']);
  const convs = [];
  for (let i = 0; i < sends; i++) {
    convs.push(JSON.parse(await post('/conversations', { tools: ['gpt-4o-mini'] }, 201, true)).id);
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
  // with, without, without, with, with, without, ...: each kind as often first.
  const order = Array.from({ length: rounds }, (_, i) => [true, false, false, true][i % 4]);
  const got = { true: [], false: [] };
  for (const indexed of order) got[indexed].push(await round(indexed));
  const withIdx = mean(got.true);
  const without = mean(got.false);
  console.log(`send through the module (${sends} a round, ${rounds} rounds alternating): ` +
    `medians with the search index ${got.true.map(ms).join(', ')} ms; without ${got.false.map(ms).join(', ')} ms`);
  // The noise: how far apart rounds of the same kind were.
  const spread = (xs) => Math.max(...xs) / Math.min(...xs) - 1;
  const noise = Math.max(spread(got.true), spread(got.false));
  console.log(`send: with / without ${(withIdx / without).toFixed(3)} (means of the round medians); ` +
    `rounds of the same kind differed by up to ${(noise * 100).toFixed(1)}%: ` +
    `${Math.abs(withIdx / without - 1) <= noise ? 'within' : 'beyond'} the noise`);
} finally {
  psql(INDEX);
}
