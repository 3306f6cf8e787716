// Latency for bench/openai (see there). Prints figures; asserts nothing.
// One client, request by request alternating: the mock directly, through
// mod_proxy, through /chat/v1 with a key; non-streamed, then streamed (time
// to the first text).
const [base, mock, key] = process.argv.slice(2);
const rounds = Number(process.env.BENCH_SENDS || 300);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => x.toFixed(2);
const messages = [{ role: 'user', content: 'Benchmark message' }];

const targets = {
  mock: { url: `${mock}/v1/chat/completions`, auth: 'Bearer mock-key' },
  proxy: { url: `${base}/bench-upstream/v1/chat/completions`, auth: 'Bearer mock-key' },
  module: { url: `${base}/chat/v1/chat/completions`, auth: `Bearer ${key}` },
};

async function once(t, stream) {
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages, max_tokens: 64, stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}) });
  const start = performance.now();
  const res = await fetch(t.url, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: t.auth }, body });
  if (res.status !== 200) throw new Error(`${t.url}: ${res.status} ${await res.text()}`);
  if (!stream) {
    await res.text();
    return performance.now() - start;
  }
  // The first chunk that carries text.
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  let first = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += decoder.decode(value, { stream: true });
    if (first === null && /"content":"[^"]/.test(seen)) first = performance.now() - start;
  }
  if (first === null) throw new Error(`${t.url}: no text in the stream`);
  return first;
}

for (const stream of [false, true]) {
  const times = { mock: [], proxy: [], module: [] };
  for (const name of Object.keys(times)) await once(targets[name], stream); // warm up
  for (let i = 0; i < rounds; i++) {
    for (const name of Object.keys(times)) times[name].push(await once(targets[name], stream));
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  const what = stream ? 'streamed, first text' : 'non-streamed';
  console.log(`openai ${what}: median mock ${ms(m.mock)} ms, mod_proxy ${ms(m.proxy)} ms, /chat/v1 ${ms(m.module)} ms ` +
    `(${rounds} each, alternating)`);
  console.log(`openai ${what}: added over the mock: mod_proxy +${ms(m.proxy - m.mock)} ms, /chat/v1 +${ms(m.module - m.mock)} ms; ` +
    `ratio of /chat/v1 to the mock ${(m.module / m.mock).toFixed(2)}, to mod_proxy ${(m.module / m.proxy).toFixed(2)}`);
}
