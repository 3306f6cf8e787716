// Organise and find, in the chat page's sidebar (hooked in by views/chat.mjs):
//
// - Search messages: GET /search as you type (300 ms after the last key, the
//   request before cancelled); each result shows its chat's title and a
//   snippet with the matches marked (a note's labelled "Note") and opens the
//   chat at the message, on its branch (?message=…, see openAt below).
//   "Save" keeps the search as a smart folder (POST /saved-searches), listed
//   under "Saved searches".
// - Tags: the user's tags with colour and count (GET /tags); clicking one
//   filters the list by it (again: no filter); "New tag" makes one. "With
//   notes" keeps the chats that have notes (has_notes=1), with the tag too.
// - Selection: a checkbox on each chat of the list, shift-click selects the
//   range from the last one clicked; "Select all" selects every chat that
//   matches the list (all pages); the bar acts on the selection with one
//   POST /conversations/bulk: tag, untag, archive, delete, and export (the
//   answer is the export ZIP of the selection, saved as a download);
//   "Summarise" queues a summary job, its progress shown (summarise.mjs),
//   as are the jobs still running when the page loads.
// - Each chat of the list shows its AI summary's first line under the
//   title, and the whole summary as the link's tooltip (as text: never HTML).
//
// Snippets come escaped from the server with <mark> around the matches; they
// are turned into text nodes and <mark> elements here, never parsed as HTML.

import { api, get, post, del, isAbort, postForBlob } from '../../api.mjs';
import { h, replaceChildren, saveBlob, setMessage } from '../../dom.mjs';
import { hrefFor } from '../../router.mjs';
import { createSummarise } from './summarise.mjs';

const SEARCH_DELAY_MS = 300;
const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** A snippet (escaped text with <mark>…</mark>) as nodes. */
function snippetNodes(snippet) {
  return String(snippet ?? '')
    .split(/(<mark>|<\/mark>)/)
    .reduce(
      (acc, part) => {
        if (part === '<mark>') acc.marked = true;
        else if (part === '</mark>') acc.marked = false;
        else if (part) {
          const text = part.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]);
          acc.nodes.push(acc.marked ? h('mark', {}, text) : text);
        }
        return acc;
      },
      { nodes: [], marked: false },
    ).nodes;
}

/**
 * Open conversation id at message: show the branch that holds it (PUT
 * …/active) and answer the thread, or null when it cannot be shown.
 */
export async function openAt(id, message, signal) {
  try {
    const body = await api(`conversations/${encodeURIComponent(id)}/active`, {
      method: 'PUT',
      body: { message_id: message },
      signal,
    });
    return Array.isArray(body?.items) ? body.items : null;
  } catch (err) {
    if (!isAbort(err)) console.warn('could not show the message', err);
    return null;
  }
}

/** Scroll to a message of the thread shown and highlight it; false when it is not there. */
export function highlightMessage(threadEl, message) {
  const el = [...threadEl.querySelectorAll('article.message')].find((a) => a.dataset.messageId === message);
  if (!el) return false;
  el.classList.add('message-found');
  el.setAttribute('data-found', 'true');
  el.scrollIntoView({ block: 'center' });
  return true;
}

/**
 * The organise panel. Create it before the sidebar (its listParams and
 * decorate go to createSidebar), then attach(sidebar).
 */
export function createOrganise({ signal }) {
  let sidebar = null;
  let tags = [];
  let filter = null; // a tag id
  let notesOnly = false;
  let selected = new Set();
  let lastClicked = null;
  let searchRequest = null;
  let timer = 0;

  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'organise-error', hidden: true });

  // ---- search -----------------------------------------------------------------
  const searchInput = h('input', {
    type: 'search',
    id: 'message-search',
    autocomplete: 'off',
    placeholder: 'Search messages',
    'data-testid': 'message-search',
  });
  const results = h('ul', { class: 'search-results', 'data-testid': 'search-results', 'aria-live': 'polite' });
  const saveButton = h(
    'button',
    { type: 'button', class: 'button small', 'data-testid': 'save-search', hidden: true, onclick: () => saveSearch() },
    'Save',
  );
  const savedList = h('ul', { class: 'saved-searches', 'data-testid': 'saved-searches' });

  // ---- tags -------------------------------------------------------------------------
  const tagList = h('ul', { class: 'tag-list', 'data-testid': 'tag-list' });
  const tagName = h('input', { type: 'text', maxlength: '50', placeholder: 'New tag', 'data-testid': 'new-tag-name' });
  const tagColor = h('input', { type: 'color', value: '#3b82f6', 'data-testid': 'new-tag-color', 'aria-label': 'Colour' });
  const tagForm = h(
    'form',
    { class: 'tag-form', 'data-testid': 'new-tag-form' },
    tagName,
    tagColor,
    h('button', { type: 'submit', class: 'button small' }, 'Add'),
  );

  // ---- bulk -------------------------------------------------------------------------
  const count = h('span', { 'data-testid': 'bulk-count' });
  const summarise = createSummarise({
    signal,
    onEnd: () => sidebar?.refresh(),
    onError: (err) => fail('The chats could not be summarised', err),
  });
  const bulkTag = h('select', { 'data-testid': 'bulk-tag', 'aria-label': 'Tag' });
  const action = (label, testid, fn) => h('button', { type: 'button', class: 'button small', 'data-testid': testid, onclick: fn }, label);
  const bar = h(
    'div',
    { class: 'bulk-bar', 'data-testid': 'bulk-bar', hidden: true },
    count,
    bulkTag,
    action('Tag', 'bulk-tag-apply', () => bulk('tag', bulkTag.value)),
    action('Untag', 'bulk-untag-apply', () => bulk('untag', bulkTag.value)),
    action('Archive', 'bulk-archive', () => bulk('archive')),
    action('Delete', 'bulk-delete', () => bulk('delete')),
    action('Export', 'bulk-export', () => exportSelected()),
    action('Summarise', 'bulk-summarise', () => summarise.start([...selected])),
    action('Clear', 'bulk-clear', () => select(new Set())),
  );
  const selectAll = action('Select all', 'select-all', () => selectAllMatching());
  const notesFilter = h(
    'button',
    {
      type: 'button',
      class: 'tag-filter',
      'data-testid': 'notes-filter',
      'aria-pressed': 'false',
      onclick: () => {
        notesOnly = !notesOnly;
        notesFilter.setAttribute('aria-pressed', String(notesOnly));
        sidebar?.refresh();
      },
    },
    'With notes',
  );

  const el = h(
    'div',
    { class: 'organise' },
    h(
      'form',
      { class: 'chat-search', role: 'search', 'aria-label': 'Messages', onsubmit: (e) => (e.preventDefault(), runSearch()) },
      h('label', { for: 'message-search', class: 'visually-hidden' }, 'Search messages'),
      searchInput,
      saveButton,
    ),
    results,
    h('h2', { class: 'conv-section-title' }, 'Saved searches'),
    savedList,
    h('h2', { class: 'conv-section-title' }, 'Tags'),
    tagList,
    notesFilter,
    tagForm,
    selectAll,
    bar,
    summarise.el,
    error,
  );

  function fail(what, err) {
    if (isAbort(err) || err?.code === 'unauthenticated') return;
    setMessage(error, `${what}: ${err.message}`);
  }

  // ---- search -----------------------------------------------------------------------
  async function runSearch() {
    const q = searchInput.value.trim();
    searchRequest?.abort();
    saveButton.hidden = q === '';
    if (!q) {
      replaceChildren(results);
      return;
    }
    const controller = new AbortController();
    searchRequest = controller;
    try {
      const body = await get(`search?${new URLSearchParams({ q, limit: 20 })}`, { signal: controller.signal });
      setMessage(error, '');
      const items = body?.items ?? [];
      replaceChildren(
        results,
        items.length
          ? items.map((item) => {
              const path = `/chat/${encodeURIComponent(item.conversation_id)}${item.message_id ? `?message=${encodeURIComponent(item.message_id)}` : ''}`;
              return h(
                'li',
                {},
                h(
                  'a',
                  { class: 'search-result', href: hrefFor(path), 'data-testid': 'search-result', 'data-message-id': item.message_id ?? '' },
                  h('span', { class: 'conv-title' }, item.title || 'Untitled chat'),
                  h(
                    'span',
                    { class: 'search-snippet', 'data-testid': 'search-snippet' },
                    item.kind === 'annotation' ? h('span', { class: 'badge', 'data-testid': 'search-note' }, 'Note') : null,
                    item.kind === 'annotation' ? ' ' : null,
                    snippetNodes(item.snippet),
                  ),
                ),
              );
            })
          : h('li', { class: 'muted', 'data-testid': 'search-empty' }, `Nothing matches “${q}”.`),
      );
    } catch (err) {
      fail('The search failed', err);
    }
  }
  searchInput.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(runSearch, SEARCH_DELAY_MS);
  });

  async function saveSearch() {
    const q = searchInput.value.trim();
    if (!q) return;
    try {
      await post('saved-searches', { name: q.slice(0, 100), query: { q } }, { signal });
      await loadSaved();
    } catch (err) {
      fail('The search could not be saved', err);
    }
  }

  async function loadSaved() {
    try {
      const body = await get('saved-searches', { signal });
      replaceChildren(
        savedList,
        (body?.items ?? []).map((s) =>
          h(
            'li',
            { class: 'saved-search' },
            h(
              'button',
              {
                type: 'button',
                class: 'link-button',
                'data-testid': 'saved-search',
                onclick: () => {
                  searchInput.value = s.query?.q ?? '';
                  runSearch();
                },
              },
              s.name,
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'link-button muted',
                'aria-label': `Delete saved search ${s.name}`,
                onclick: async () => {
                  try {
                    await del(`saved-searches/${encodeURIComponent(s.id)}`, { signal });
                    await loadSaved();
                  } catch (err) {
                    fail('The saved search could not be deleted', err);
                  }
                },
              },
              '×',
            ),
          ),
        ),
      );
    } catch (err) {
      fail('Saved searches could not be loaded', err);
    }
  }

  // ---- tags -------------------------------------------------------------------------
  async function loadTags() {
    try {
      tags = (await get('tags', { signal }))?.items ?? [];
    } catch (err) {
      fail('Tags could not be loaded', err);
      return;
    }
    if (filter && !tags.some((t) => t.id === filter)) filter = null;
    replaceChildren(
      tagList,
      tags.map((t) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'tag-filter',
              'data-testid': 'tag-filter',
              'data-tag-id': t.id,
              'aria-pressed': String(t.id === filter),
              onclick: () => {
                filter = filter === t.id ? null : t.id;
                loadTags();
                sidebar?.refresh();
              },
            },
            h('span', { class: 'tag-dot', style: `background:${/^#[0-9a-f]{6}$/.test(t.color) ? t.color : '#888888'}` }),
            h('span', { class: 'tag-name' }, t.name),
            h('span', { class: 'tag-count muted', 'data-testid': 'tag-count' }, String(t.count)),
          ),
        ),
      ),
    );
    const chosen = bulkTag.value;
    replaceChildren(bulkTag, tags.map((t) => h('option', { value: t.id }, t.name)));
    if (tags.some((t) => t.id === chosen)) bulkTag.value = chosen;
  }
  tagForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = tagName.value.trim();
    if (!name) return;
    try {
      await post('tags', { name, color: tagColor.value }, { signal });
      tagName.value = '';
      setMessage(error, '');
      await loadTags();
    } catch (err) {
      fail('The tag could not be made', err);
    }
  });

  // ---- selection and bulk actions ------------------------------------------------------
  function select(ids) {
    selected = ids;
    for (const box of sidebar?.el.querySelectorAll('input[data-testid="conv-select"]') ?? []) {
      box.checked = selected.has(box.value);
    }
    count.textContent = `${selected.size} selected`;
    bar.hidden = selected.size === 0;
  }

  function decorate(li, conv) {
    const id = String(conv.id);
    const box = h('input', {
      type: 'checkbox',
      class: 'conv-select',
      value: id,
      'data-testid': 'conv-select',
      'aria-label': `Select ${conv.title || 'chat'}`,
    });
    box.checked = selected.has(id);
    box.addEventListener('click', (event) => {
      const next = new Set(selected);
      const order = sidebar ? sidebar.conversations().map((c) => String(c.id)) : [id];
      const from = order.indexOf(lastClicked);
      const to = order.indexOf(id);
      if (event.shiftKey && from !== -1 && to !== -1) {
        for (const other of order.slice(Math.min(from, to), Math.max(from, to) + 1)) {
          if (box.checked) next.add(other);
          else next.delete(other);
        }
      } else if (box.checked) next.add(id);
      else next.delete(id);
      lastClicked = id;
      select(next);
    });
    li.classList.add('conv-item');
    li.prepend(box);
    const tagsEl = (conv.tags ?? []).map((t) =>
      h('span', { class: 'tag-chip', 'data-testid': 'conv-tag', title: t.name, style: `border-color:${/^#[0-9a-f]{6}$/.test(t.color) ? t.color : '#888888'}` }, t.name),
    );
    if (tagsEl.length) li.querySelector('.conv-meta')?.append(' ', ...tagsEl);
    const summary = typeof conv.summary === 'string' ? conv.summary.trim() : '';
    const link = li.querySelector('.conv-link');
    if (summary && link) {
      link.title = summary;
      link.querySelector('.conv-title')?.after(h('span', { class: 'conv-summary', 'data-testid': 'conv-summary' }, summary.split('\n')[0]));
    }
  }

  /** Every chat the list shows with its filter, all pages. */
  async function selectAllMatching() {
    const ids = new Set();
    try {
      for (const pinned of ['true', 'false']) {
        let after = null;
        do {
          const p = new URLSearchParams({ pinned, limit: 100, ...listParams() });
          const q = sidebar?.query();
          if (q) p.set('q', q);
          if (after) p.set('after', after);
          const body = await get(`conversations?${p}`, { signal });
          for (const c of body?.items ?? []) ids.add(String(c.id));
          after = body?.next ?? null;
        } while (after && ids.size < 1000);
      }
    } catch (err) {
      fail('The chats could not be listed', err);
      return;
    }
    select(ids);
  }

  async function bulk(act, tagId) {
    if (selected.size === 0 || ((act === 'tag' || act === 'untag') && !tagId)) return;
    if (act === 'delete' && !window.confirm(`Delete ${selected.size} chats?`)) return;
    try {
      await post('conversations/bulk', { ids: [...selected], action: act, ...(tagId ? { tag_id: tagId } : {}) }, { signal });
      setMessage(error, '');
      select(new Set());
      await loadTags();
      sidebar?.refresh();
    } catch (err) {
      fail('The chats could not be changed', err);
    }
  }

  /** The selection as the export ZIP, downloaded (the selection stays). */
  async function exportSelected() {
    if (selected.size === 0) return;
    try {
      saveBlob(await postForBlob('conversations/bulk', { ids: [...selected], action: 'export' }, { signal }), 'aichat-export.zip');
      setMessage(error, '');
    } catch (err) {
      fail('The chats could not be exported', err);
    }
  }

  /** The list's filters: the tag chosen, with notes. */
  function listParams() {
    return { ...(filter ? { tags: filter } : {}), ...(notesOnly ? { has_notes: '1' } : {}) };
  }

  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    searchRequest?.abort();
  }, { once: true });

  return {
    el,
    listParams,
    decorate,
    /** Put the panel in the sidebar (above its list) and load it. */
    attach(sb) {
      sidebar = sb;
      sb.el.insertBefore(el, sb.el.querySelector('#chat-list'));
      loadTags();
      loadSaved();
      summarise.resume();
    },
  };
}
