// A conversation's history beside its thread: the AI summary, the notes
// (annotations) and the versions.
//
// - Summary: the stored one (with its model and time) and "Summarise", which
//   asks for a new one (POST …/summary, charged like a message).
// - Notes: select text in an answer, write a note, Add note (POST
//   …/annotations with the position {start, end, quote}: code points into
//   the answer's text as shown, and the text quoted). Notes are listed here
//   and the quoted text is marked in the answer (found again by its quote,
//   the occurrence nearest to start, so a changed display still finds it).
//   Their author edits or deletes them.
// - Versions: save one with a comment, View one as it was (GET
//   /versions/{id}: title, comment, time, tags, messages; read-only), pick
//   two and Compare (GET /versions/{id}/diff), or Restore one as a new chat.
//   Listed a page at a time, newest first; "Load more versions" follows the
//   list's `next` cursor.
// - deleteBranch(msg), for the thread's "Delete branch" (a message with
//   other versions, the owner only): confirmed, then DELETE /messages/{id},
//   which keeps a version first; refused (409) while a share shows it.
//
// Everything from the server goes in as text (h() and textContent).

import { del, get, patch, post, isAbort } from '../../api.mjs';
import { formatDate, h, replaceChildren, setMessage } from '../../dom.mjs';
import { session } from '../../session.mjs';
import { senderName } from './message.mjs';

const QUOTE_MAX = 2000;
const VERSIONS_PAGE = 20;

/** What a version without a comment is called, by why it was taken. */
const VERSION_REASONS = { before_branch_delete: 'Before a branch was deleted', before_import: 'Before an import added messages' };

const versionLabel = (v) => v.comment || VERSION_REASONS[v.reason] || 'Version';

const codePoints = (text) => [...text].length;

/** Code points from the start of root's text to (node, offset). */
function offsetIn(root, node, offset) {
  const range = document.createRange();
  range.setStart(root, 0);
  range.setEnd(node, offset);
  return codePoints(range.toString());
}

/** The code-unit index of code point n in text. */
function unitIndex(text, n) {
  let units = 0;
  for (const ch of text) {
    if (n-- <= 0) break;
    units += ch.length;
  }
  return units;
}

/** Mark the text units [from, to) of root with <mark> elements (one per text node crossed). */
function markUnits(root, from, to, note) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const pieces = [];
  let pos = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const len = node.data.length;
    const a = Math.max(from, pos);
    const b = Math.min(to, pos + len);
    if (a < b) pieces.push([node, a - pos, b - pos]);
    pos += len;
    if (pos >= to) break;
  }
  for (const [node, a, b] of pieces) {
    const range = document.createRange();
    range.setStart(node, a);
    range.setEnd(node, b);
    const mark = h('mark', { class: 'annotation-mark', 'data-testid': 'annotation-mark', title: note.note });
    mark.dataset.annotationId = note.id;
    range.surroundContents(mark);
  }
}

/** Where a note's quote is in text (code units), nearest to its start; null when it is gone. */
function locate(text, position) {
  const want = unitIndex(text, position.start);
  let best = null;
  for (let i = text.indexOf(position.quote); i !== -1; i = text.indexOf(position.quote, i + 1)) {
    if (best === null || Math.abs(i - want) < Math.abs(best - want)) best = i;
  }
  return best === null ? null : [best, best + position.quote.length];
}

/**
 * The history panel. options: signal, threadEl (the thread's element, where
 * text is selected and notes are marked), navigate, onError(text), onSummary()
 * (a new summary was stored: the list shows it).
 * Returns { el, show(conv), highlight(), deleteBranch(msg) }.
 */
export function createHistory({ signal, threadEl, navigate, onError, onSummary }) {
  let conv = null;
  let notes = [];
  let versions = [];
  let versionsNext = null; // the versions list's cursor while there are more
  let versionsLoad = 0; // the latest versions load asked for: an older answer is dropped
  let selection = null; // { messageId, position } while a new note is being written

  // ---- Summary ----
  const summaryText = h('p', { class: 'history-summary-text', 'data-testid': 'chat-summary' });
  const summaryMeta = h('p', { class: 'hint', 'data-testid': 'chat-summary-meta' });
  const summariseButton = h('button', { type: 'button', class: 'button small', 'data-testid': 'summarise' }, 'Summarise');
  const summary = h('section', { class: 'history-section', 'aria-label': 'Summary' }, h('h2', {}, 'Summary'), summaryText, summaryMeta, summariseButton);

  // ---- Notes ----
  const quoteEl = h('blockquote', { class: 'annotation-quote', 'data-testid': 'annotation-quote' });
  const noteInput = h('textarea', { rows: '2', class: 'chat-input', 'aria-label': 'Note', 'data-testid': 'annotation-input' });
  const noteForm = h(
    'form',
    { class: 'annotation-form', 'data-testid': 'annotation-form', hidden: true },
    quoteEl,
    noteInput,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button primary small', 'data-testid': 'annotation-save' }, 'Add note'),
      h('button', { type: 'button', class: 'button small', onclick: () => closeForm() }, 'Cancel'),
    ),
  );
  const noteHint = h('p', { class: 'hint' }, 'Select text in an answer to add a note.');
  const noteList = h('ul', { class: 'annotation-list', 'data-testid': 'annotation-list' });
  const notesSection = h('section', { class: 'history-section', 'aria-label': 'Notes' }, h('h2', {}, 'Notes'), noteHint, noteForm, noteList);

  // ---- Versions ----
  const commentInput = h('input', { type: 'text', maxlength: '500', placeholder: 'Comment (optional)', 'aria-label': 'Version comment', 'data-testid': 'version-comment' });
  const saveVersion = h('button', { type: 'button', class: 'button small', 'data-testid': 'version-save' }, 'Save version');
  const compareButton = h('button', { type: 'button', class: 'button small', 'data-testid': 'version-compare', disabled: true }, 'Compare selected');
  const versionList = h('ul', { class: 'version-list', 'data-testid': 'version-list' });
  const moreVersions = h('button', { type: 'button', class: 'button small', 'data-testid': 'version-more', hidden: true }, 'Load more versions');
  const diffEl = h('div', { class: 'version-diff', 'data-testid': 'version-diff', hidden: true });
  const viewEl = h('section', { class: 'version-view', 'aria-label': 'Version', 'data-testid': 'version-view', hidden: true });
  const versionsSection = h(
    'details',
    { class: 'history-section', 'data-testid': 'versions-panel' },
    h('summary', {}, 'Versions'),
    h('div', { class: 'version-new' }, commentInput, saveVersion),
    versionList,
    moreVersions,
    compareButton,
    diffEl,
    viewEl,
  );

  const status = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const el = h('aside', { class: 'chat-history', 'aria-label': 'Summary, notes and versions', 'data-testid': 'chat-history', hidden: true }, summary, notesSection, versionsSection, status);

  const base = () => `conversations/${encodeURIComponent(conv.id)}`;

  function fail(what, err) {
    if (isAbort(err) || err?.code === 'unauthenticated') return;
    setMessage(status, `${what}: ${err?.message ?? 'failed'}`);
    onError?.(`${what}: ${err?.message ?? 'failed'}`);
  }

  // ---- Summary ----

  function drawSummary() {
    summaryText.textContent = conv.summary || 'No summary yet.';
    summaryMeta.textContent = conv.summary ? `By ${conv.summary_model} · ${formatDate(conv.summarized_at)}` : '';
    summaryMeta.hidden = !conv.summary;
  }

  summariseButton.addEventListener('click', async () => {
    summariseButton.disabled = true;
    summariseButton.textContent = 'Summarising…';
    try {
      const body = await post(`${base()}/summary`, {}, { signal });
      conv = { ...conv, summary: body.summary, summary_model: body.summary_model, summarized_at: body.summarized_at };
      if (Number.isInteger(body.credits)) session.set({ ...session.user, token_credits: body.credits });
      drawSummary();
      onSummary?.();
    } catch (err) {
      fail('The summary could not be made', err);
    } finally {
      summariseButton.disabled = false;
      summariseButton.textContent = 'Summarise';
    }
  });

  // ---- Notes ----

  function noteItem(note) {
    const text = h('p', { class: 'annotation-note', 'data-testid': 'annotation-note' }, note.note);
    const item = h(
      'li',
      { class: 'annotation-item', 'data-testid': 'annotation' },
      h('blockquote', { class: 'annotation-quote' }, note.position.quote),
      text,
      h('p', { class: 'hint' }, `${note.author?.display_name ?? ''} · ${formatDate(note.created_at)}`),
    );
    item.dataset.annotationId = note.id;
    if (note.is_author) {
      const edit = h('button', { type: 'button', class: 'message-action', 'data-testid': 'annotation-edit' }, 'Edit');
      const remove = h('button', { type: 'button', class: 'message-action', 'data-testid': 'annotation-delete' }, 'Delete');
      edit.addEventListener('click', async () => {
        // eslint-disable-next-line no-alert
        const changed = window.prompt('Edit the note', note.note);
        if (changed === null || !changed.trim()) return;
        try {
          const saved = await patch(`annotations/${encodeURIComponent(note.id)}`, { note: changed }, { signal });
          notes = notes.map((n) => (n.id === saved.id ? saved : n));
          drawNotes();
        } catch (err) {
          fail('The note could not be changed', err);
        }
      });
      remove.addEventListener('click', async () => {
        try {
          await del(`annotations/${encodeURIComponent(note.id)}`, { signal });
          notes = notes.filter((n) => n.id !== note.id);
          drawNotes();
        } catch (err) {
          fail('The note could not be deleted', err);
        }
      });
      item.append(h('div', { class: 'actions' }, edit, remove));
    }
    item.addEventListener('mouseenter', () => threadEl.querySelectorAll(`mark[data-annotation-id="${note.id}"]`).forEach((m) => m.classList.add('active')));
    item.addEventListener('mouseleave', () => threadEl.querySelectorAll('mark.active').forEach((m) => m.classList.remove('active')));
    return item;
  }

  function drawNotes() {
    replaceChildren(noteList, notes.map(noteItem));
    highlight();
  }

  /** Mark every note's quote in its answer (again: a re-rendered thread loses the marks). */
  function highlight() {
    for (const mark of threadEl.querySelectorAll('mark.annotation-mark')) mark.replaceWith(...mark.childNodes);
    threadEl.normalize();
    for (const note of notes) {
      const body = threadEl.querySelector(`[data-message-id="${note.message_id}"] [data-testid="message-body"]`);
      if (!body) continue;
      const at = locate(body.textContent, note.position);
      if (at) markUnits(body, at[0], at[1], note);
    }
  }

  function closeForm() {
    selection = null;
    noteForm.hidden = true;
    noteInput.value = '';
  }

  threadEl.addEventListener('mouseup', () => {
    if (!conv) return;
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) return;
    const range = sel.getRangeAt(0);
    const common = range.commonAncestorContainer;
    const body = (common.nodeType === Node.ELEMENT_NODE ? common : common.parentElement)?.closest('[data-testid="message-body"]');
    const article = body?.closest('[data-message-id]');
    if (!body || !article || article.dataset.senderType !== 'ai') return;
    const quote = range.toString();
    if (!quote.trim() || codePoints(quote) > QUOTE_MAX) return;
    const start = offsetIn(body, range.startContainer, range.startOffset);
    selection = { messageId: article.dataset.messageId, position: { start, end: start + codePoints(quote), quote } };
    quoteEl.textContent = quote;
    noteForm.hidden = false;
    noteInput.focus();
  });

  noteForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!selection || !noteInput.value.trim()) return;
    try {
      const note = await post(`${base()}/annotations`, { message_id: selection.messageId, position: selection.position, note: noteInput.value }, { signal });
      notes.push(note);
      closeForm();
      drawNotes();
    } catch (err) {
      fail('The note could not be added', err);
    }
  });

  // ---- Versions ----

  const picked = () => [...versionList.querySelectorAll('input[type="checkbox"]:checked')].map((c) => c.value);

  function versionItem(v) {
    const pick = h('input', { type: 'checkbox', value: v.id, 'aria-label': `Pick ${v.comment || 'version'} to compare`, 'data-testid': 'version-pick' });
    pick.addEventListener('change', () => {
      compareButton.disabled = picked().length !== 2;
    });
    const view = h('button', { type: 'button', class: 'message-action', 'data-testid': 'version-view-open' }, 'View');
    view.addEventListener('click', () => viewVersion(v.id));
    const restore = h('button', { type: 'button', class: 'message-action', 'data-testid': 'version-restore' }, 'Restore as new chat');
    restore.addEventListener('click', async () => {
      try {
        const created = await post(`versions/${encodeURIComponent(v.id)}/restore`, {}, { signal });
        navigate(`/chat/${created.id}`);
      } catch (err) {
        fail('The version could not be restored', err);
      }
    });
    return h(
      'li',
      { class: 'version-item', 'data-testid': 'version' },
      h('label', {}, pick, ` ${versionLabel(v)}`),
      h('p', { class: 'hint' }, `${formatDate(v.created_at)} · ${v.message_count} messages`),
      h('div', { class: 'actions' }, view, restore),
    );
  }

  /** The first page of versions (again); with more, the next page added below them. */
  async function loadVersions({ more = false } = {}) {
    if (more && !versionsNext) return;
    const asked = ++versionsLoad;
    const query = new URLSearchParams({ limit: VERSIONS_PAGE });
    if (more) query.set('after', versionsNext);
    const body = await get(`${base()}/versions?${query}`, { signal });
    if (asked !== versionsLoad) return;
    const items = Array.isArray(body?.items) ? body.items : [];
    if (more) {
      const seen = new Set(versions.map((v) => v.id));
      const added = items.filter((v) => !seen.has(v.id));
      versions = versions.concat(added);
      versionList.append(...added.map(versionItem));
    } else {
      versions = items;
      replaceChildren(versionList, versions.map(versionItem));
      compareButton.disabled = true;
    }
    versionsNext = typeof body?.next === 'string' && body.next ? body.next : null;
    moreVersions.hidden = versionsNext === null;
  }

  moreVersions.addEventListener('click', async () => {
    if (!versionsNext) return;
    moreVersions.disabled = true;
    try {
      await loadVersions({ more: true });
    } catch (err) {
      fail('More versions could not be loaded', err);
    } finally {
      moreVersions.disabled = false;
    }
  });

  saveVersion.addEventListener('click', async () => {
    saveVersion.disabled = true;
    try {
      await post(`${base()}/versions`, { comment: commentInput.value }, { signal });
      commentInput.value = '';
      await loadVersions();
    } catch (err) {
      fail('The version could not be saved', err);
    } finally {
      saveVersion.disabled = false;
    }
  });

  /** A tag as a chip in its colour (set through CSSOM: the page's CSP allows no style attribute). */
  function tagChip(t) {
    const chip = h('span', { class: 'tag-chip', 'data-testid': 'version-view-tag', title: t.name }, t.name);
    chip.style.borderColor = /^#[0-9a-f]{6}$/.test(t.color) ? t.color : '#888888';
    return chip;
  }

  let viewing = 0; // the latest view asked for: an older answer, or one after Close, is dropped

  function closeView() {
    viewing += 1;
    viewEl.hidden = true;
    viewEl.replaceChildren();
  }

  /** Show version id read-only: its title, comment, time, tags and messages (as text). */
  async function viewVersion(id) {
    const asked = ++viewing;
    try {
      const v = await get(`versions/${encodeURIComponent(id)}`, { signal });
      if (asked !== viewing) return;
      const snap = v.snapshot ?? {};
      const tags = Array.isArray(snap.tags) ? snap.tags : [];
      const messages = Array.isArray(snap.messages) ? snap.messages : [];
      const rows = messages.map((m) =>
        h(
          'li',
          { class: `version-view-message version-view-${m.sender_type === 'ai' ? 'ai' : 'user'}`, 'data-testid': 'version-view-message' },
          h(
            'p',
            { class: 'version-view-sender' },
            h('span', { class: 'message-sender', 'data-testid': 'version-view-sender' }, senderName(m)),
            m.sender_type === 'ai' && m.sender?.model_id ? [' ', h('span', { class: 'message-model', 'data-testid': 'version-view-model' }, m.sender.model_id)] : null,
            m.status && m.status !== 'complete' ? [' ', h('span', { class: 'hint' }, `(${m.status})`)] : null,
          ),
          h('p', { class: 'version-view-text', 'data-testid': 'version-view-text' }, m.content ?? ''),
        ),
      );
      const close = h('button', { type: 'button', class: 'button small', 'data-testid': 'version-view-close' }, 'Close');
      close.addEventListener('click', closeView);
      replaceChildren(
        viewEl,
        h('div', { class: 'version-view-head' }, h('h3', { 'data-testid': 'version-view-title' }, snap.title || 'Untitled'), close),
        h('p', { class: 'version-view-comment', 'data-testid': 'version-view-comment' }, versionLabel(v)),
        h('p', { class: 'hint', 'data-testid': 'version-view-meta' }, `${formatDate(v.created_at)} · ${messages.length} messages${v.created_by ? ` · by ${v.created_by}` : ''}`),
        tags.length ? h('p', { class: 'version-view-tags', 'data-testid': 'version-view-tags' }, tags.map(tagChip)) : null,
        h('ol', { class: 'version-view-messages' }, rows),
      );
      diffEl.hidden = true;
      viewEl.hidden = false;
    } catch (err) {
      fail('The version could not be shown', err);
    }
  }

  function diffText(m) {
    return m ? `${m.sender?.display_name ?? m.sender_type}: ${m.content}` : '—';
  }

  compareButton.addEventListener('click', async () => {
    const [a, b] = picked();
    const older = versions.findIndex((v) => v.id === a) > versions.findIndex((v) => v.id === b) ? a : b;
    const newer = older === a ? b : a;
    try {
      const diff = await get(`versions/${encodeURIComponent(older)}/diff?with=${encodeURIComponent(newer)}`, { signal });
      const rows = diff.messages.map((m) =>
        h(
          'li',
          { class: `diff-row diff-${m.change}`, 'data-testid': 'diff-row' },
          h('span', { class: 'diff-change', 'data-testid': 'diff-change' }, m.change),
          m.change === 'same' ? h('p', {}, diffText(m.from)) : h('div', {}, h('p', { class: 'diff-from' }, diffText(m.from)), h('p', { class: 'diff-to' }, diffText(m.to))),
        ),
      );
      const changes = ['title', 'system_prompt', 'settings', 'models'].filter((k) => diff[`${k}_changed`]).map((k) => k.replace('_', ' '));
      replaceChildren(
        diffEl,
        h('h3', {}, `From “${diff.from.comment || 'version'}” to “${diff.to.comment || 'version'}”`),
        h('p', { class: 'hint' }, changes.length ? `Also changed: ${changes.join(', ')}` : 'Title and settings unchanged.'),
        h('ol', { class: 'diff-list' }, rows),
      );
      closeView();
      diffEl.hidden = false;
    } catch (err) {
      fail('The versions could not be compared', err);
    }
  });

  // ---- Showing a conversation ----

  async function show(c) {
    conv = c;
    el.hidden = !conv;
    status.hidden = true;
    closeForm();
    diffEl.hidden = true;
    closeView();
    versionsNext = null;
    moreVersions.hidden = true;
    if (!conv) return;
    drawSummary();
    try {
      const [n] = await Promise.all([get(`${base()}/annotations`, { signal }), loadVersions()]);
      notes = Array.isArray(n?.items) ? n.items : [];
      drawNotes();
    } catch (err) {
      fail('The notes and versions could not be loaded', err);
    }
  }

  /** Delete msg and everything below it, once confirmed; true when it is gone. */
  async function deleteBranch(msg) {
    const what = msg.sender_type === 'ai' ? 'answer' : 'message';
    if (!window.confirm(`Delete this version of the ${what} and everything after it? A version of the chat is saved first.`)) return false;
    try {
      await del(`messages/${encodeURIComponent(msg.id)}`, { signal });
      return true;
    } catch (err) {
      fail('The branch could not be deleted', err);
      return false;
    }
  }

  return { el, show, highlight, deleteBranch };
}
