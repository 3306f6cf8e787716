// Import & export: drop an export of ChatGPT, Claude, Gemini or Mistral
// (POST /imports with the file as the body), follow its job (the event
// stream of GET /imports/{id}/events) with a progress bar and counts, the
// errors listed and links to the imported chats (the first 200 with the
// job, the rest a page at a time from GET /imports/{id}/conversations);
// earlier imports (GET /imports, a page at a time), each shown again with
// its chats; the whole library as a ZIP (POST /exports).

import { API_BASE, get, del, isAbort, ApiError } from '../api.mjs';
import { h, replaceChildren, saveBlob, setMessage, formatDate, formatNumber } from '../dom.mjs';
import { hrefFor } from '../router.mjs';

const SOURCES = { chatgpt: 'ChatGPT', claude: 'Claude', gemini: 'Gemini', mistral: 'Mistral' };
const FINAL = ['done', 'failed', 'cancelled'];

/** POST /imports with the file itself as the body. */
async function uploadFile(file, signal) {
  const url = new URL(`imports?name=${encodeURIComponent(file.name)}`, API_BASE);
  const res = await fetch(url, {
    method: 'POST',
    body: file,
    credentials: 'same-origin',
    signal,
    headers: { Accept: 'application/json', 'Content-Type': file.type || 'application/octet-stream' },
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const e = body?.error ?? {};
    throw new ApiError(res.status, e.code ?? 'error', e.message ?? `The upload failed (${res.status}).`, e.field);
  }
  return body;
}

function statusText(job) {
  switch (job.status) {
    case 'queued':
      return 'Waiting to start…';
    case 'running':
      return 'Importing…';
    case 'done':
      return 'Done';
    case 'cancelled':
      return 'Cancelled';
    default:
      return `Failed${job.reason ? `: ${job.reason}` : ''}`;
  }
}

const megabytes = new Intl.NumberFormat(undefined, { style: 'unit', unit: 'megabyte', maximumFractionDigits: 1 });

function countsText(job) {
  const total = job.conversations_total;
  const done = formatNumber(job.conversations_done);
  const parts = [total == null ? `${done} conversations` : `${done} of ${formatNumber(total)} conversations`];
  parts.push(`${formatNumber(job.messages_added)} messages added`);
  if (job.status === 'running' && job.file_size > 0) {
    parts.push(`${megabytes.format(job.bytes_read / 1e6)} of ${megabytes.format(job.file_size / 1e6)} read`);
  }
  if (job.conversations_created !== job.conversations_done) {
    parts.push(`${formatNumber(job.conversations_done - job.conversations_created)} already here`);
  }
  return parts.join(' · ');
}

export async function render({ outlet, signal }) {
  const input = h('input', { type: 'file', id: 'import-file', accept: '.json,.zip,application/json,application/zip', 'data-testid': 'import-file' });
  const drop = h(
    'label',
    { class: 'import-drop', for: 'import-file', 'data-testid': 'import-drop' },
    h('strong', {}, 'Drop an export here'),
    h('span', { class: 'hint' }, ' or choose a file: a ChatGPT, Claude or Mistral export ZIP, its conversations.json, or Google Takeout’s Gemini Apps activity (JSON).'),
    input,
  );
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'import-error', hidden: true });
  const job = h('div', { class: 'import-job', 'data-testid': 'import-job', hidden: true });
  const history = h('ul', { class: 'import-history', 'data-testid': 'import-history' });
  const moreHistory = h('button', { type: 'button', class: 'button small', 'data-testid': 'import-history-more', hidden: true }, 'More imports');
  const exportButton = h('button', { type: 'button', class: 'button', 'data-testid': 'export-all' }, 'Export all chats (ZIP)');
  const exportStatus = h('p', { class: 'muted', role: 'status', 'data-testid': 'export-status', hidden: true });

  replaceChildren(
    outlet,
    h(
      'section',
      { class: 'library', 'aria-labelledby': 'library-title' },
      h('h1', { id: 'library-title', tabindex: '-1' }, 'Import & export'),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'library-import-title' },
        h('h2', { id: 'library-import-title' }, 'Import chats'),
        h('p', { class: 'lead' }, 'Bring your chats from ChatGPT, Claude, Gemini or Mistral Le Chat, every branch and time kept. Importing the same export again adds only what is new.'),
        drop,
        error,
        job,
        h('h3', {}, 'Earlier imports'),
        history,
        moreHistory,
      ),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'library-export-title' },
        h('h2', { id: 'library-export-title' }, 'Export'),
        h('p', { class: 'lead' }, 'All your chats as a ZIP: the full trees as JSON, one Markdown file per chat, and a ChatGPT-format conversations.json.'),
        exportButton,
        exportStatus,
      ),
    ),
  );

  let stream = null;
  signal.addEventListener('abort', () => stream?.close());
  // The job shown, and its chats loaded past the first page ({ items, next }).
  let shown = null;
  let more = null;
  // Earlier imports loaded, and the cursor of the next page.
  let jobs = [];
  let jobsNext = null;

  /** The next page of the shown job's chats, added below its links. */
  async function moreChats(j, button) {
    const next = more ? more.next : j.conversations_next;
    if (!next) return;
    button.disabled = true;
    try {
      const body = await get(`imports/${encodeURIComponent(j.id)}/conversations?after=${encodeURIComponent(next)}`, { signal });
      if (shown?.id !== j.id) return;
      more = { items: [...(more?.items ?? []), ...(body.items ?? [])], next: body.next ?? null };
      drawJob(shown);
    } catch (err) {
      if (!isAbort(err)) setMessage(error, err.message);
      button.disabled = false;
    }
  }

  function drawJob(j) {
    if (shown?.id !== j.id) more = null;
    shown = j;
    const bar = h('progress', {
      'data-testid': 'import-progress',
      max: String(Math.max(j.conversations_total ?? 0, 1)),
      value: String(FINAL.includes(j.status) && j.status === 'done' ? Math.max(j.conversations_total ?? 0, 1) : j.conversations_done),
      'aria-label': 'Import progress',
    });
    const errors = (j.errors ?? []).map((e) =>
      h('li', { 'data-testid': 'import-job-error' }, [e.title || e.conversation || e.member, e.message || e.code].filter(Boolean).join(': ')),
    );
    const links = [...(j.conversations ?? []), ...(more?.items ?? [])].map((c) =>
      h('li', {}, h('a', { href: hrefFor(`/chat/${encodeURIComponent(c.id)}`), 'data-testid': 'import-chat-link' }, c.title || 'Untitled')),
    );
    const moreLinks = (more ? more.next : j.conversations_next)
      ? h('button', { type: 'button', class: 'button small', 'data-testid': 'import-links-more', onclick: (ev) => moreChats(j, ev.currentTarget) }, 'More imported chats')
      : null;
    const cancel = FINAL.includes(j.status)
      ? null
      : h('button', { type: 'button', class: 'button small danger', 'data-testid': 'import-cancel', onclick: () => cancelJob(j.id) }, 'Cancel');
    replaceChildren(
      job,
      h('p', { 'data-testid': 'import-status' }, `${j.file_name ?? 'Upload'} — ${SOURCES[j.format] ?? 'recognising…'} — ${statusText(j)}`),
      bar,
      h('p', { class: 'muted', 'data-testid': 'import-counts' }, countsText(j)),
      errors.length ? h('ul', { class: 'import-errors', 'data-testid': 'import-errors' }, errors) : null,
      links.length ? h('ul', { class: 'import-links', 'data-testid': 'import-links' }, links) : null,
      moreLinks,
      cancel,
    );
    job.hidden = false;
    job.dataset.status = j.status;
  }

  function follow(j) {
    drawJob(j);
    stream?.close();
    if (FINAL.includes(j.status)) return;
    stream = new EventSource(new URL(`imports/${encodeURIComponent(j.id)}/events`, API_BASE), { withCredentials: true });
    const onData = (ev) => drawJob(JSON.parse(ev.data));
    stream.addEventListener('progress', onData);
    stream.addEventListener('end', (ev) => {
      onData(ev);
      stream.close();
      loadHistory();
    });
    stream.addEventListener('error', () => {
      // The stream ended or broke: read the job once more.
      stream.close();
      get(`imports/${encodeURIComponent(j.id)}`, { signal }).then(drawJob, () => {});
    });
  }

  async function cancelJob(id) {
    try {
      drawJob(await del(`imports/${encodeURIComponent(id)}`, { signal }));
    } catch (err) {
      if (!isAbort(err)) setMessage(error, err.message);
    }
  }

  async function start(file) {
    setMessage(error, '');
    if (!file) return;
    drop.classList.add('is-busy');
    try {
      follow(await uploadFile(file, signal));
      loadHistory();
    } catch (err) {
      if (!isAbort(err)) setMessage(error, err.message);
    } finally {
      drop.classList.remove('is-busy');
      input.value = '';
    }
  }

  function drawHistory() {
    if (jobs.length === 0) {
      replaceChildren(history, h('li', { class: 'muted', 'data-testid': 'import-history-empty' }, 'None yet.'));
    } else {
      replaceChildren(
        history,
        jobs.map((j) =>
          h(
            'li',
            { 'data-testid': 'import-history-item' },
            `${formatDate(j.created_at)} · ${j.file_name ?? 'Upload'} · ${SOURCES[j.format] ?? '—'} · ${statusText(j)} · ${countsText(j)} `,
            j.conversations?.length
              ? h('button', { type: 'button', class: 'button small', 'data-testid': 'import-history-show', onclick: () => follow(j) }, 'Show its chats')
              : null,
          ),
        ),
      );
    }
    moreHistory.hidden = !jobsNext;
  }

  /** The first page of earlier imports (again), or with `after` the next one added below. */
  async function loadHistory(after = null) {
    try {
      const body = await get(after ? `imports?after=${encodeURIComponent(after)}` : 'imports', { signal });
      jobs = after ? [...jobs, ...(body.items ?? [])] : body.items ?? [];
      jobsNext = body.next ?? null;
      drawHistory();
    } catch (err) {
      if (!isAbort(err)) setMessage(error, err.message);
    }
  }

  moreHistory.addEventListener('click', async () => {
    moreHistory.disabled = true;
    await loadHistory(jobsNext);
    moreHistory.disabled = false;
  });

  async function exportAll() {
    exportButton.disabled = true;
    setMessage(exportStatus, 'Preparing the ZIP…');
    try {
      const res = await fetch(new URL('exports', API_BASE), {
        method: 'POST',
        credentials: 'same-origin',
        signal,
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      if (!res.ok) throw new Error(`The export failed (${res.status}).`);
      saveBlob(await res.blob(), 'aichat-export.zip');
      setMessage(exportStatus, 'Downloaded.');
    } catch (err) {
      if (!isAbort(err)) setMessage(exportStatus, err.message);
    } finally {
      exportButton.disabled = false;
    }
  }

  input.addEventListener('change', () => start(input.files[0]));
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('is-over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('is-over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('is-over');
    start(ev.dataTransfer.files[0]);
  });
  exportButton.addEventListener('click', exportAll);
  loadHistory();
}
