// Measurements for bench/chat (see there). Prints figures; asserts nothing.
import { execFileSync } from 'node:child_process';
import { firstMatch, median } from './lib.mjs';

const [base, mock, streams, hold, floorRead, floorWrite] = process.argv.slice(2);
const auth = 'Basic ' + Buffer.from('demo:demo').toString('base64');
const json = { 'Content-Type': 'application/json', Authorization: auth };
const ms = (x) => x.toFixed(2);

async function conversation(tool, retry = true) {
  let res;
  try {
    res = await fetch(`${base}/chat/api/v1/conversations`, {
      method: 'POST', headers: json, body: JSON.stringify({ tools: [tool] }),
    });
  } catch (e) {
    // Untimed set-up: a keep-alive connection httpd closed as the request
    // went out ("other side closed", seen in a new server's first seconds)
    // costs one retry, not the run.
    if (retry && e.cause?.code === 'UND_ERR_SOCKET') return conversation(tool, false);
    throw e;
  }
  if (res.status !== 201) throw new Error(`create conversation: ${res.status} ${await res.text()}`);
  return (await res.json()).id;
}

// (a) latency of a non-streamed send vs. the same upstream call via mod_proxy,
// printed with its floor and judged against no target: mod_proxy stores
// nothing, so no ratio to it says whether a send is fast enough. A send's
// anchor is an LLM gateway measured side by side (bench/README.md).
// Each timed send (and each stream in (b)) is the first message of a
// conversation of its own, created beforehand and not timed: a real send
// answers a thread, not one of hundreds of roots of the same conversation
// (whose every new root lists all the others as its siblings). The model is
// then asked about that one message, as the mock is through mod_proxy.
const rounds = Number(process.env.BENCH_SENDS || 200);
const fresh = async (count) => {
  const ids = [];
  for (let i = 0; i < count; i++) ids.push(await conversation('gpt-4o-mini'));
  return ids;
};
const sendConvs = await fresh(rounds);
const streamConvs = await fresh(rounds);
const upstreamBody = JSON.stringify({
  model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, max_tokens: 1024,
  messages: [{ role: 'user', content: 'Benchmark message' }],
});
const moduleTimes = [];
const proxyTimes = [];
for (let i = 0; i < rounds; i++) {
  let t = performance.now();
  let res = await fetch(`${base}/chat/api/v1/conversations/${sendConvs[i]}/messages`, {
    method: 'POST', headers: json,
    body: JSON.stringify({ content: 'Benchmark message', parent_id: null, stream: false }),
  });
  await res.text();
  if (res.status !== 201) throw new Error(`send: ${res.status}`);
  moduleTimes.push(performance.now() - t);
  t = performance.now();
  res = await fetch(`${base}/bench-upstream/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer mock-key' },
    body: upstreamBody,
  });
  await res.text();
  if (res.status !== 200) throw new Error(`proxy: ${res.status}`);
  proxyTimes.push(performance.now() - t);
}
const a = median(moduleTimes) / median(proxyTimes);
console.log(`chat (a) non-streamed send: median ${ms(median(moduleTimes))} ms via the module, ` +
  `${ms(median(proxyTimes))} ms via mod_proxy, ratio ${a.toFixed(2)} (no target, ${rounds} sends each)`);
if (floorRead && floorWrite) {
  // The least a send's database work could add: one read, two commits.
  const least = Number(floorRead) + 2 * Number(floorWrite);
  console.log(`chat (a) floor: a prepared SELECT 1 takes ${Number(floorRead).toFixed(3)} ms and a one-row INSERT ` +
    `${Number(floorWrite).toFixed(3)} ms on this cluster (pgbench, this run); one read and two commits added to ` +
    `mod_proxy's median give a ratio of ${((median(proxyTimes) + least) / median(proxyTimes)).toFixed(2)}`);
}

// (b) time to the first answer text: module (first delta event) vs. mock (first data chunk)
async function firstText(url, headers, body, marker) {
  const t = performance.now();
  return firstMatch(await fetch(url, { method: 'POST', headers, body }), t, marker);
}
const viaModule = [];
const direct = [];
for (let i = 0; i < rounds; i++) {
  viaModule.push(await firstText(`${base}/chat/api/v1/conversations/${streamConvs[i]}/messages`,
    { ...json, Accept: 'text/event-stream' },
    JSON.stringify({ content: 'Benchmark message', parent_id: null }), /event: delta/));
  direct.push(await firstText(`${mock}/v1/chat/completions`,
    { 'Content-Type': 'application/json', Authorization: 'Bearer mock-key' }, upstreamBody, /"content":"Mock/));
}
console.log(`chat (b) first streamed text: median ${ms(median(viaModule))} ms via the module, ` +
  `${ms(median(direct))} ms from the mock directly, difference ${ms(median(viaModule) - median(direct))} ms (target <= 2)`);

// (c) concurrent streams held against a slow mock
function httpdRssKb() {
  const out = execFileSync('ps', ['-C', 'apache2', '-o', 'rss=']).toString();
  return out.split('\n').filter(Boolean).reduce((s, x) => s + Number(x), 0);
}
const n = Number(streams);
const slow = await conversation('bench-slow');
const before = httpdRssKb();
let errors = 0;
let completed = 0;
const kinds = {}; // what the errors were: an HTTP status, the stream's error code, or the exception
const failed = (kind) => {
  errors++;
  kinds[kind] = (kinds[kind] || 0) + 1;
};
let peak = before;
const sampler = setInterval(() => { peak = Math.max(peak, httpdRssKb()); }, 1000);
const started = performance.now();
await Promise.all(Array.from({ length: n }, async () => {
  try {
    const res = await fetch(`${base}/chat/api/v1/conversations/${slow}/messages`, {
      method: 'POST', headers: { ...json, Accept: 'text/event-stream' },
      body: JSON.stringify({ content: 'Hold on', parent_id: null }),
    });
    const text = await res.text();
    if (res.status !== 200) failed(`HTTP ${res.status}`);
    else if (!text.includes('event: done')) failed(text.match(/"code":"([a-z_]+)"/)?.[1] ?? 'no done event');
    else completed++;
  } catch (e) {
    failed(e.cause?.code ?? e.message);
  }
}));
clearInterval(sampler);
const seconds = (performance.now() - started) / 1000;
console.log(`chat (c) ${n} concurrent streams over ${seconds.toFixed(1)} s (mock paced to ~${hold} s): ` +
  `${completed} complete, ${errors} errors (target 0)${errors ? ' ' + JSON.stringify(kinds) : ''}; httpd RSS ${Math.round(before / 1024)} MB before, ` +
  `${Math.round(peak / 1024)} MB peak, ${((peak - before) / n).toFixed(0)} KB per stream`);
