// restart: PostgreSQL stopped and started FAULTS_RESTARTS times (5) under the
// mixed load for FAULTS_RESTART_SECONDS (60), each time down for
// FAULTS_DOWN_SECONDS (3). Targets: committed writes lost 0; committed
// changes without their audit row 0; httpd restarts 0 (the same parent, no
// child killed by a signal); failures only 503 with Retry-After while the
// database was down (a stream, whose status went out before, fails with its
// error event database_unavailable).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { sqlValue } from '../../tests/lib/db.mjs';
import {
  Tally, checkCommitted, coreFiles, count, crashLines, errorLines, errorLogMark, failureKind, figure, httpdParent, mixedLoad,
  pct, seconds, settled, setup, streamError, succeeded, verdict,
} from './lib.mjs';

const run = promisify(execFile);
const NAME = 'restart';

async function dev(command) {
  await run(process.env.AICHAT_DEV, [command], { timeout: 120_000 });
}

export default async function restart() {
  const total = seconds('FAULTS_RESTART_SECONDS', 60);
  const restarts = count('FAULTS_RESTARTS', 5);
  const down = seconds('FAULTS_DOWN_SECONDS', 3);
  const clients = count('FAULTS_CLIENTS', 16);
  const ctx = await setup(NAME, 8);
  const userIds = ctx.users.map((u) => u.id);
  const viewsBefore = Number(await sqlValue(`SELECT view_count FROM shared_chats WHERE id = :'p1'`, ctx.share.id));
  const parent = httpdParent();
  const mark = errorLogMark();

  const started = Date.now();
  const windows = []; // [stop issued, start done]
  const period = total / restarts;
  const stopper = (async () => {
    for (let i = 0; i < restarts; i++) {
      const at = started + (i * period + (period - down) / 2) * 1000;
      await delay(Math.max(0, at - Date.now()));
      const w = [Date.now()];
      await dev('db-stop');
      await delay(down * 1000);
      await dev('db-start');
      w.push(Date.now());
      windows.push(w);
    }
  })();
  const records = await mixedLoad(ctx, { clients, tag: NAME, stop: () => Date.now() - started >= total * 1000 });
  await stopper;
  const elapsed = (Date.now() - started) / 1000;

  // Failures: only 503 with Retry-After (or a stream's database_unavailable
  // event) by a request that overlapped a window of the database being down.
  const during = (rec) => windows.some(([a, b]) => rec.t0 <= b && rec.t1 >= a);
  const ops = new Tally();
  const fine = new Tally();
  const bad = new Tally();
  const badOnes = [];
  let ok = 0;
  for (const rec of records) {
    ops.add(rec.op);
    if (succeeded(rec)) {
      ok++;
      continue;
    }
    const expected = rec.status === 503 ? Boolean(rec.retryAfter) && during(rec)
      : rec.status === 200 && streamError(rec) === 'database_unavailable' && during(rec);
    const kind = `${failureKind(rec)}${rec.status === 503 && !rec.retryAfter ? ' without Retry-After' : ''}` +
      `${during(rec) ? '' : ' while the database was up'}`;
    (expected ? fine : bad).add(kind);
    if (!expected) badOnes.push(rec);
  }
  // When each unexpected failure came, against the nearest restart.
  const near = (rec) => {
    const [a, b] = windows.reduce((w, x) => (Math.abs(x[1] - rec.t0) < Math.abs(w[1] - rec.t0) ? x : w));
    const message = rec.json?.error?.message ? ` ("${rec.json.error.message}")` : '';
    return `${rec.method} ${rec.path.replace(/[0-9a-f-]{36}/, '{id}')} ${failureKind(rec)}${message} sent ` +
      `${((rec.t0 - a) / 1000).toFixed(2)} s after the stop, ${((rec.t0 - b) / 1000).toFixed(2)} s after the ` +
      `start returned, answered in ${((rec.t1 - rec.t0) / 1000).toFixed(2)} s`;
  };
  const left = await settled(userIds);
  const { writes, requests, lost, unaudited } = await checkCommitted(records, userIds);
  const lines = errorLines(mark);
  const crashes = crashLines(lines);
  const sameParent = httpdParent() === parent;
  const viewsServed = records.filter((r) => r.op === 'share' && r.status === 200).length;
  await delay(2000); // the writers' last batches
  const viewsCounted = Number(await sqlValue(`SELECT view_count FROM shared_chats WHERE id = :'p1'`, ctx.share.id)) -
    viewsBefore;

  figure(NAME, `${records.length} requests in ${elapsed.toFixed(1)} s by ${clients} clients ${ops}; ` +
    `${windows.length} restarts, down ${windows.map(([a, b]) => ((b - a) / 1000).toFixed(1)).join(', ')} s; ` +
    `${ok} succeeded, ${fine.total()} failed as expected ${fine}`);
  verdict(NAME, `committed writes lost: ${lost.length} of ${writes} (target 0)` +
    `${lost.length ? ` e.g. ${lost.slice(0, 5).join('; ')}` : ''}; answers still streaming after 60 s: ${left}`,
  lost.length === 0 && left === 0);
  verdict(NAME, `committed changes without their audit row: ${unaudited.length} (${requests} write requests ` +
    `checked and every conversation and user message stored) (target 0)` +
    `${unaudited.length ? ` e.g. ${unaudited.slice(0, 5).join('; ')}` : ''}`, unaudited.length === 0);
  verdict(NAME, `httpd restarts: ${sameParent ? 0 : 1} (parent ${parent} ${sameParent ? 'unchanged' : 'replaced'}), ` +
    `child crashes in the error log: ${crashes.length} (target 0)${crashes.length ? ` e.g. ${crashes[0]}` : ''}` +
    `${coreFiles().length ? `; core files: ${coreFiles().join(' ')}` : ''}`,
  sameParent && crashes.length === 0);
  verdict(NAME, `failures other than 503 with Retry-After while the database was down: ${bad.total()} of ` +
    `${records.length - ok} failures (${pct(bad.total(), records.length)} of requests) (target 0)` +
    `${bad.total() ? ` ${bad}` : ''}`, bad.total() === 0);
  for (const rec of badOnes.slice(0, 5)) figure(NAME, `unexpected failure: ${near(rec)}`);
  figure(NAME, `share views answered 200: ${viewsServed}, counted in the database: ${viewsCounted}; ` +
    `error log lines during the run: ${lines.length}`);
}
