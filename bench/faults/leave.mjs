// leave: FAULTS_LEAVERS clients (1,000), each in a conversation of its own,
// open a stream each on a model that answers slowly (5 words a second for
// two minutes), all at once, and close the connection as soon as their first
// text arrives. Targets: every answer
// stored 'incomplete' and charged (the ledger charges it what its row
// says it used, more than nothing); httpd's busy workers (mod_status) back to
// their baseline afterwards. Printed besides: how long that took, and the
// mock's view (upstream calls stopped early, none still running).

import { setTimeout as delay } from 'node:timers/promises';
import { sqlJson } from '../../tests/lib/db.mjs';
import {
  API, Tally, busyWorkers, count, failureKind, figure, hit, mockStats, pct, seconds, settled, setup, verdict,
} from './lib.mjs';

const NAME = 'leave';

export default async function leave() {
  const leavers = count('FAULTS_LEAVERS', 1000);
  const wait = seconds('FAULTS_LEAVE_WAIT_SECONDS', 60);
  const ctx = await setup(NAME, 8);
  const userIds = ctx.users.map((u) => u.id);
  const slow = ctx.fx.catalog.slug('slow');
  await ctx.fx.catalog.tool({
    slug: slow, provider: 'faults-slow', model_id: 'gpt-4o-mini@rate=5;tokens=600',
    capabilities: { streaming: true }, default_settings: { max_tokens: 200 },
  });
  const convs = [];
  for (let i = 0; i < leavers; i++) convs.push((await ctx.fx.conversation(ctx.users[i % ctx.users.length], [slow])).id);

  await delay(1000);
  const baseline = await busyWorkers();
  const mockBefore = await mockStats();
  const started = Date.now();
  const records = await Promise.all(Array.from({ length: leavers }, (_, i) => hit('stream', 'POST',
    `${API}/conversations/${convs[i]}/messages`, {
      auth: ctx.users[i % ctx.users.length], stream: true, leave: true,
      body: { content: `faults ${NAME} ${i}`, stream: true },
    })));
  const allLeft = Date.now();

  // Busy workers: polled until back at the baseline (or the wait is over).
  let busy;
  let back = null;
  const peak = { busy: 0 };
  do {
    busy = await busyWorkers();
    peak.busy = Math.max(peak.busy, busy);
    if (busy <= baseline) back = Date.now();
    else await delay(250);
  } while (back === null && Date.now() - allLeft < wait * 1000);
  const left = await settled(userIds);
  await delay(1000);
  const mockAfter = await mockStats();

  const answers = [];
  const failed = new Tally();
  for (const rec of records) {
    const id = rec.events.find((e) => e.event === 'start')?.json?.message_id;
    if (rec.left && id) answers.push(id);
    else failed.add(rec.status === 200 ? `no text before the end (${rec.events.map((e) => e.event).join(',')})`
      : failureKind(rec));
  }
  const rows = await sqlJson(
    `SELECT m.id, m.status, coalesce(m.prompt_tokens, 0) + coalesce(m.completion_tokens, 0) AS used,
            (SELECT -r.delta FROM credit_ledger r WHERE r.message_id = m.parent_message_id AND r.reason = 'reserve')
              - (SELECT sum(l.delta) FROM credit_ledger l WHERE l.message_id = m.id AND l.reason = 'settle') AS charged
       FROM messages m WHERE m.id = ANY (:'p1'::uuid[])`, `{${answers.join(',')}}`);
  const statuses = new Tally();
  for (const r of rows) statuses.add(r.status);
  const incomplete = rows.filter((r) => r.status === 'incomplete').length;
  const charged = rows.filter((r) => Number(r.charged) > 0 && Number(r.charged) === Number(r.used)).length;

  const firsts = records.filter((r) => r.left).map((r) => r.left - r.t0).sort((a, b) => a - b);
  const at = (q) => (firsts.length ? (firsts[Math.floor(q * (firsts.length - 1))] / 1000).toFixed(2) : '-');
  figure(NAME, `${leavers} streams opened at once, ${answers.length} left after their first text ` +
    `(first text after ${at(0.5)} s median, ${at(1)} s at most; the last client gone ` +
    `${((allLeft - started) / 1000).toFixed(1)} s after the first was opened)` +
    `${failed.total() ? `; no text to leave after: ${failed.total()} ${failed}` : ''}`);
  verdict(NAME, `answers stored incomplete: ${incomplete} of ${answers.length} (${pct(incomplete, answers.length)}) ` +
    `${statuses}, charged what they used: ${charged} (${pct(charged, answers.length)}) (target 100%)` +
    `${left ? `; still streaming after 60 s: ${left}` : ''}`,
  answers.length === leavers && incomplete === answers.length && charged === answers.length);
  verdict(NAME, `busy workers: baseline ${baseline}, peak seen afterwards ${peak.busy}, ` +
    `${back === null ? `still ${busy} after ${wait} s` : `back to ${busy} ${((back - allLeft) / 1000).toFixed(1)} s after the last client left`} ` +
    '(target: back to the baseline)', back !== null);
  figure(NAME, `mock: ${mockAfter.started - mockBefore.started} upstream streams, ` +
    `${mockAfter.aborted - mockBefore.aborted} stopped early by the module, ` +
    `${mockAfter.completed - mockBefore.completed} ran to their end, ${mockAfter.active} still running`);
}
