// "Summarise these", in the sidebar's selection bar (views/chat/organise.mjs):
// POST /conversations/bulk {"action":"summarise"} queues a summary job (202);
// its progress shows under the bar, read from GET /summary-jobs/{id} every
// second until it ends, then the list is refreshed (each chat shows its
// summary's first line) and the job's end is told: how many were summarised,
// and each chat that failed with why (as text).
//
// The progress survives a reload: when the page loads, the user's queued and
// running jobs (GET /summary-jobs?active=true) are shown and followed the same
// way. A job not yet ended has a Cancel button (DELETE /summary-jobs/{id}):
// a queued job ends at once, a running one after the chat it is summarising.

import { get, post, del, isAbort } from '../../api.mjs';
import { h, replaceChildren } from '../../dom.mjs';

const POLL_MS = 1000;
const FINAL = new Set(['done', 'failed', 'cancelled']);

/** The line that tells where job is. */
function progressLine(job) {
  const failed = job.failed ? `; ${job.failed} failed` : '';
  if (job.status === 'cancelled') return `Cancelled: summarised ${job.done} of ${job.total} chats${failed}.`;
  if (FINAL.has(job.status)) return `Summarised ${job.done} of ${job.total} chats${failed}.`;
  if (job.cancel_requested) return `Cancelling… ${job.done + job.failed} of ${job.total}`;
  return `Summarising… ${job.done + job.failed} of ${job.total}`;
}

/** The progress of summary jobs; onEnd() runs when one ends. */
export function createSummarise({ signal, onEnd, onError }) {
  const el = h('div', { class: 'summary-job', 'data-testid': 'summary-job', role: 'status', 'aria-live': 'polite', hidden: true });
  const rows = new Map(); // job id → its row

  function show(job) {
    let row = rows.get(job.id);
    if (!row) {
      row = h('div', { class: 'summary-job-row', 'data-testid': 'summary-job-row', 'data-job-id': job.id });
      rows.set(job.id, row);
      el.prepend(row); // the newest first
    }
    const errors = (job.errors ?? []).map((e) =>
      h('li', { 'data-testid': 'summary-job-error' }, `${e.conversation_id ?? ''} ${e.message ?? e.code ?? ''}`.trim()),
    );
    const cancel = FINAL.has(job.status) || job.cancel_requested
      ? ''
      : h('button', { type: 'button', class: 'button small', 'data-testid': 'summary-job-cancel', onclick: () => cancelJob(job.id) }, 'Cancel');
    replaceChildren(
      row,
      h('span', { 'data-testid': 'summary-job-progress', 'data-status': job.status }, progressLine(job)),
      cancel,
      errors.length ? h('ul', {}, errors) : '',
    );
    el.hidden = false;
  }

  async function follow(job) {
    while (!signal.aborted && !FINAL.has(job.status)) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      job = await get(`summary-jobs/${encodeURIComponent(job.id)}`, { signal });
      show(job);
    }
    onEnd?.(job);
  }

  async function cancelJob(id) {
    try {
      show(await del(`summary-jobs/${encodeURIComponent(id)}`, { signal }));
    } catch (err) {
      if (!isAbort(err)) onError?.(err);
    }
  }

  /** Queue a job over ids (or every chat filter matches, the list's "all that match") and follow it. */
  async function start(ids, filter = null) {
    if (ids.length === 0 && !filter) return;
    try {
      const job = await post('conversations/bulk', { ...(filter ? { filter } : { ids }), action: 'summarise' }, { signal });
      if (!job?.id) return; // the filter matched no chat: nothing queued
      show(job);
      await follow(job);
    } catch (err) {
      if (!isAbort(err)) onError?.(err);
    }
  }

  /** Show and follow the user's jobs that have not ended (on page load). */
  async function resume() {
    try {
      const body = await get('summary-jobs?active=true', { signal });
      const jobs = (body?.items ?? []).filter((job) => !rows.has(job.id));
      // Oldest first, so that the newest ends up on top.
      for (const job of [...jobs].reverse()) show(job);
      await Promise.all(jobs.map(follow));
    } catch (err) {
      if (!isAbort(err)) onError?.(err);
    }
  }

  return { el, start, resume };
}
