// bench/gateway's clients (see there). Prints figures; asserts nothing.
//   latency BASE MOCK PORTKEY KEY: one client, request by request
//     alternating between the mock directly, mod_proxy, Portkey and /chat/v1
//     with a key; non-streamed, then streamed (time to the first text)
//   streams BASE MOCK PORTKEY KEY N HOLD HTTPD_PID: N concurrent streams held
//     about HOLD s, through mod_proxy, then through /chat/v1: this httpd's
//     memory per stream
import { execFileSync } from 'node:child_process';
import { firstMatch, median } from '../lib.mjs';

const [mode, base, mock, portkey, key, streams, hold, httpdPid] = process.argv.slice(2);
const rounds = Number(process.env.BENCH_SENDS || 200);
const ms = (x) => x.toFixed(2);
const messages = [{ role: 'user', content: 'Benchmark message' }];
const upstream = { 'Content-Type': 'application/json', Authorization: 'Bearer mock-key' };

const targets = {
  mock: { url: `${mock}/v1/chat/completions`, headers: upstream },
  mod_proxy: { url: `${base}/bench-upstream/v1/chat/completions`, headers: upstream },
  portkey: {
    url: `${portkey}/v1/chat/completions`,
    headers: { ...upstream, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${mock}/v1` },
  },
  '/chat/v1': {
    url: `${base}/chat/v1/chat/completions`,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
  },
};

function body(stream, model = 'gpt-4o-mini') {
  return JSON.stringify({ model, messages, max_tokens: 64, stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}) });
}

async function once(t, stream) {
  const start = performance.now();
  const res = await fetch(t.url, { method: 'POST', headers: t.headers, body: body(stream) });
  if (res.status !== 200) throw new Error(`${t.url}: ${res.status} ${await res.text()}`);
  if (!stream) {
    await res.text();
    return performance.now() - start;
  }
  // The first chunk that carries text.
  const first = await firstMatch(res, start, /"content":"[^"]/);
  if (first === null) throw new Error(`${t.url}: no text in the stream`);
  return first;
}

async function latency() {
  const added = {};
  for (const stream of [false, true]) {
    const what = stream ? 'streamed, first text' : 'non-streamed';
    const names = [];
    for (const name of Object.keys(targets)) { // warm up; a target that fails is left out
      try {
        await once(targets[name], stream);
        names.push(name);
      } catch (e) {
        console.log(`gateway ${what}: ${name} fails, left out: ${e.message.slice(0, 300)}`);
      }
    }
    const times = Object.fromEntries(names.map((n) => [n, []]));
    for (let i = 0; i < rounds; i++) {
      for (const name of names) times[name].push(await once(targets[name], stream));
    }
    const m = Object.fromEntries(names.map((n) => [n, median(times[n])]));
    console.log(`gateway ${what}: median ${names.map((n) => `${n} ${ms(m[n])} ms`).join(', ')} ` +
      `(${rounds} each, alternating)`);
    console.log(`gateway ${what}: added over the mock: ${names.filter((n) => n !== 'mock')
      .map((n) => `${n} +${ms(m[n] - m.mock)} ms`).join(', ')}`);
    if (!stream) added.module = m['/chat/v1'] - m.mock, added.portkey = m.portkey - m.mock;
  }
  console.log(`gateway target: /chat/v1 added latency / portkey's ${(added.module / added.portkey).toFixed(2)} ` +
    `(target <= 0.5)`);
}

// This httpd's memory (the parent and its children), in kB.
function httpdRssKb() {
  const kids = execFileSync('ps', ['--ppid', httpdPid, '-o', 'rss=']).toString();
  const own = execFileSync('ps', ['-p', httpdPid, '-o', 'rss=']).toString();
  return (kids + own).split('\n').filter(Boolean).reduce((s, x) => s + Number(x), 0);
}

async function held(name, url, headers, model) {
  const n = Number(streams);
  const before = httpdRssKb();
  let peak = before;
  let ok = 0;
  const kinds = {};
  const sampler = setInterval(() => { peak = Math.max(peak, httpdRssKb()); }, 1000);
  const started = performance.now();
  await Promise.all(Array.from({ length: n }, async () => {
    try {
      const res = await fetch(url, { method: 'POST', headers, body: body(true, model) });
      const text = await res.text();
      if (res.status === 200 && text.includes('[DONE]')) ok++;
      else kinds[`HTTP ${res.status}`] = (kinds[`HTTP ${res.status}`] || 0) + 1;
    } catch (e) {
      const k = e.cause?.code ?? e.message;
      kinds[k] = (kinds[k] || 0) + 1;
    }
  }));
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  console.log(`gateway streams ${name}: ${n} concurrent over ${seconds.toFixed(1)} s (held ~${hold} s): ${ok} complete` +
    `${ok < n ? ', failed ' + JSON.stringify(kinds) : ''}; httpd RSS ${Math.round(before / 1024)} MB before, ` +
    `${Math.round(peak / 1024)} MB peak, ${((peak - before) / n).toFixed(0)} KB per stream`);
  return (peak - before) / n;
}

async function heldStreams() {
  const proxy = await held('mod_proxy', targets.mod_proxy.url, upstream,
    `mock@rate=5;tokens=${Number(hold) * 5}`);
  const module = await held('/chat/v1', targets['/chat/v1'].url, targets['/chat/v1'].headers, 'bench-slow');
  console.log(`gateway streams: memory per stream /chat/v1 / mod_proxy ${(module / proxy).toFixed(2)}`);
}

await (mode === 'latency' ? latency() : heldStreams());
