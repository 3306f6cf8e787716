// provider: seven kinds of provider failure (401, 429, 500, 529, timeout,
// malformed, cut stream), each on the three protocols, sent streamed and not
// by FAULTS_CLIENTS clients (16) for FAULTS_PROVIDER_SECONDS (60). Targets:
// user messages kept 100%, reservations released 100% (no credits left
// reserved; the ledger explains every balance). Printed besides: what the
// client was told for each kind, against what README.md documents.

import { setTimeout as delay } from 'node:timers/promises';
import { sqlJson } from '../../tests/lib/db.mjs';
import { BASE_MODEL } from '../../tests/lib/chat.mjs';
import {
  API, Tally, checkCredits, count, figure, hit, pct, seconds, settled, setup, streamError, verdict,
} from './lib.mjs';

const NAME = 'provider';

// Each kind: the mock's switches, the provider prefix (timeouts go to the
// providers that give up after a second), and what README.md says the
// client is told.
const KINDS = {
  401: { switches: 'error=401', expect: [502, 'provider_auth'] },
  429: { switches: 'error=429', expect: [429, 'provider_rate_limited'] },
  500: { switches: 'error=500', expect: [502, 'provider_error'] },
  529: { switches: 'error=529', expect: [502, 'provider_overloaded'] },
  timeout: { switches: 'latency=3000', faults: true, expect: [504, 'provider_timeout'] },
  malformed: { switches: 'malformed=1', expect: [502, 'provider_malformed'] },
  cut: { switches: 'cut=2;tokens=10', expect: [502, 'provider_incomplete'] },
};
const PROTOCOLS = ['openai', 'anthropic', 'google'];

export default async function provider() {
  const total = seconds('FAULTS_PROVIDER_SECONDS', 60);
  const clients = count('FAULTS_CLIENTS', 16);
  const ctx = await setup(NAME, 8);
  const userIds = ctx.users.map((u) => u.id);
  const models = [];
  for (const [kind, k] of Object.entries(KINDS)) {
    for (const proto of PROTOCOLS) {
      const slug = ctx.fx.catalog.slug(`${kind}-${proto}`);
      await ctx.fx.catalog.tool({
        slug, provider: k.faults ? `faults-${proto}` : proto, model_id: `${BASE_MODEL[proto]}@${k.switches}`,
        capabilities: { streaming: true }, default_settings: { max_tokens: 64 },
      });
      models.push({ kind, proto, slug });
    }
  }

  const sends = [];
  let n = 0;
  const started = Date.now();
  const client = async (c) => {
    const auth = ctx.users[c % ctx.users.length];
    const convs = new Map();
    for (let i = c; Date.now() - started < total * 1000; i++) {
      const m = models[i % models.length];
      if (!convs.has(m.slug)) {
        const rec = await hit('conversation', 'POST', `${API}/conversations`, { auth, body: { tools: [m.slug] } });
        if (rec.status !== 201) {
          figure(NAME, `a conversation could not be created: ${rec.status} ${rec.json?.error?.code ?? rec.error}`);
          await delay(500);
          continue;
        }
        convs.set(m.slug, rec.json.id);
      }
      const stream = (i + c) % 2 === 0;
      const content = `faults ${NAME} ${c}.${n++}`;
      const rec = await hit('send', 'POST', `${API}/conversations/${convs.get(m.slug)}/messages`,
        { auth, stream, body: { content, stream } });
      sends.push({ ...m, stream, content, rec });
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  const elapsed = (Date.now() - started) / 1000;
  const left = await settled(userIds);

  const stored = new Set((await sqlJson(
    `SELECT m.content FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE c.owner_id = ANY (:'p1'::uuid[]) AND m.sender_type = 'user'`, `{${userIds.join(',')}}`))
    .map((r) => r.content));
  const answered = sends.filter((s) => s.rec.status !== 0);
  const kept = answered.filter((s) => stored.has(s.content)).length;
  const { turns, open, unexplained } = await checkCredits(userIds);

  figure(NAME, `${sends.length} sends in ${elapsed.toFixed(1)} s by ${clients} clients, ` +
    `${sends.filter((s) => s.stream).length} streamed; no answer: ${sends.length - answered.length}`);
  for (const [kind, k] of Object.entries(KINDS)) {
    const mine = answered.filter((s) => s.kind === kind);
    const told = new Tally();
    let documented = 0;
    for (const s of mine) {
      const code = s.stream && s.rec.status === 200 ? streamError(s.rec) ?? 'no error' : s.rec.json?.error?.code;
      const status = s.stream && s.rec.status === 200 ? k.expect[0] : s.rec.status;
      told.add(`${s.stream && s.rec.status === 200 ? 'stream' : status} ${code}`);
      if (status === k.expect[0] && code === k.expect[1]) documented++;
    }
    figure(NAME, `${kind}: ${mine.length} sends, told as documented (${k.expect.join(' ')}): ` +
      `${documented} (${pct(documented, mine.length)}) ${told}`);
  }
  verdict(NAME, `user messages kept: ${kept} of ${answered.length} (${pct(kept, answered.length)}) (target 100%)`,
    kept === answered.length && answered.length > 0);
  verdict(NAME, `reservations released: ${turns - open.length} of ${turns} (${pct(turns - open.length, turns)}), ` +
    `answers still streaming: ${left}, users whose ledger does not explain the balance: ${unexplained.length} ` +
    `(target 100%, 0, 0)${open.length ? ` e.g. ${JSON.stringify(open.slice(0, 3))}` : ''}`,
  open.length === 0 && left === 0 && unexplained.length === 0 && turns > 0);
}
