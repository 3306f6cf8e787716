// "Summarise these", in the sidebar's selection bar (views/chat/organise.mjs):
// POST /conversations/bulk {"action":"summarise"} queues a summary job (202);
// its progress shows under the bar, read from GET /summary-jobs/{id} every
// second until it ends, then the list is refreshed (each chat shows its
// summary's first line) and the job's end is told: how many were summarised,
// and each chat that failed with why (as text).

import { get, post, isAbort } from '../../api.mjs';
import { h, replaceChildren } from '../../dom.mjs';

const POLL_MS = 1000;
const FINAL = new Set(['done', 'failed']);

/** The progress of summary jobs; onEnd() runs when one ends. */
export function createSummarise({ signal, onEnd, onError }) {
  const el = h('div', { class: 'summary-job', 'data-testid': 'summary-job', role: 'status', 'aria-live': 'polite', hidden: true });

  function show(job) {
    const line = FINAL.has(job.status)
      ? `Summarised ${job.done} of ${job.total} chats${job.failed ? `; ${job.failed} failed` : ''}.`
      : `Summarising… ${job.done + job.failed} of ${job.total}`;
    const errors = (job.errors ?? []).map((e) =>
      h('li', { 'data-testid': 'summary-job-error' }, `${e.conversation_id ?? ''} ${e.message ?? e.code ?? ''}`.trim()),
    );
    replaceChildren(el, h('span', { 'data-testid': 'summary-job-progress' }, line), errors.length ? h('ul', {}, errors) : '');
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

  /** Queue a job over ids and follow it. */
  async function start(ids) {
    if (ids.length === 0) return;
    try {
      const job = await post('conversations/bulk', { ids, action: 'summarise' }, { signal });
      show(job);
      await follow(job);
    } catch (err) {
      if (!isAbort(err)) onError?.(err);
    }
  }

  return { el, start };
}
