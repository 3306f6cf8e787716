// memory: the mixed load (sends, streams, share views, catalog pages) by
// FAULTS_CLIENTS clients (16) for FAULTS_MEMORY_SECONDS (600), each httpd
// child's resident memory (VmRSS) read every 5 s. Target: no child's memory
// grows more than 5% from the end of the first FAULTS_MEMORY_WARMUP_SECONDS
// (60) to the end of the run. The children live for the whole run
// (bench/faults/run keeps idle ones); one that did not is printed.

import { setTimeout as delay } from 'node:timers/promises';
import {
  Tally, count, figure, httpdChildren, mixedLoad, rssKb, seconds, setup, succeeded, verdict,
} from './lib.mjs';

const NAME = 'memory';
const TARGET = 0.05;
const mb = (kb) => (kb / 1024).toFixed(1);

export default async function memory() {
  const total = seconds('FAULTS_MEMORY_SECONDS', 600);
  const warmup = seconds('FAULTS_MEMORY_WARMUP_SECONDS', 60);
  const clients = count('FAULTS_CLIENTS', 16);
  const ctx = await setup(NAME, 8);
  const first = new Map(httpdChildren().map((pid) => [pid, rssKb(pid)]));
  let base = null;
  const minutes = []; // all children's RSS at the end of each minute
  const started = Date.now();
  let done = false;
  const sampler = (async () => {
    while (!done) {
      await delay(5000);
      const now = Date.now() - started;
      if (base === null && now >= warmup * 1000) {
        base = new Map(httpdChildren().map((pid) => [pid, rssKb(pid)]));
      }
      if (now >= (minutes.length + 1) * 60_000) {
        minutes.push(httpdChildren().reduce((s, pid) => s + (rssKb(pid) ?? 0), 0));
      }
    }
  })();
  const records = await mixedLoad(ctx, { clients, tag: NAME, stop: () => Date.now() - started >= total * 1000 });
  done = true;
  await sampler;
  const end = new Map(httpdChildren().map((pid) => [pid, rssKb(pid)]));
  const elapsed = (Date.now() - started) / 1000;

  const ops = new Tally();
  for (const rec of records) ops.add(succeeded(rec) ? rec.op : `${rec.op} failed`);
  figure(NAME, `${records.length} requests in ${elapsed.toFixed(0)} s by ${clients} clients ${ops}`);
  figure(NAME, `httpd's GLIBC_TUNABLES: ${process.env.AICHAT_GLIBC_TUNABLES || "none (glibc's defaults)"}`);
  if (base === null) {
    verdict(NAME, `the run (${total} s) ended before the warm-up (${warmup} s) did`, false);
    return;
  }
  const growth = [];
  for (const [pid, kb] of base) {
    if (end.has(pid) && end.get(pid) !== null && kb) growth.push({ pid, from: kb, to: end.get(pid), g: end.get(pid) / kb - 1 });
  }
  growth.sort((a, b) => b.g - a.g);
  const gone = [...base.keys()].filter((pid) => !end.has(pid));
  const born = [...end.keys()].filter((pid) => !base.has(pid));
  const sum = (m) => [...m.values()].reduce((s, kb) => s + (kb ?? 0), 0);
  figure(NAME, `${end.size} children; all children's RSS ${mb(sum(first))} MB ` +
    `at the start, ${mb(sum(base))} MB after ${warmup} s, ${mb(sum(end))} MB at the end` +
    `${gone.length ? `; gone since the warm-up: ${gone.join(', ')}` : ''}${born.length ? `; new: ${born.join(', ')}` : ''}`);
  figure(NAME, `all children's RSS at the end of each minute: ${minutes.map((kb) => mb(kb)).join(', ')} MB`);
  figure(NAME, `per child after ${warmup} s -> end: ${growth.map((c) => `${c.pid} ${mb(c.from)}->${mb(c.to)} MB ` +
    `(${(100 * c.g).toFixed(1)}%)`).join(', ')}`);
  const worst = growth[0];
  verdict(NAME, `largest growth of a child's memory after the first ${warmup} s: ` +
    `${worst ? `${(100 * worst.g).toFixed(1)}% (pid ${worst.pid}, ${mb(worst.from)} -> ${mb(worst.to)} MB)` : 'no child lived through'} ` +
    `(target <= ${100 * TARGET}%)`, Boolean(worst) && worst.g <= TARGET && gone.length === 0);
}
