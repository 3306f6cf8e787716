// Organise and find, in the chat page's sidebar (hooked in by views/chat.mjs):
//
// - Search messages: GET /search as you type (300 ms after the last key, the
//   request before cancelled); each result shows its chat's title and a
//   snippet with the matches marked (a note's labelled "Note") and opens the
//   chat at the message, on its branch (?message=…, see openAt below).
//   "Filters" (a disclosure, collapsed) narrows it: tags (any or all of
//   them), source, model, a date range, archived, with notes. "Save search" keeps
//   the words with those filters under a name (POST /saved-searches, the
//   query as the search's parameters), listed under "Saved searches";
//   opening one puts its words and filters back and runs it.
// - Tags: the user's tags with colour and count (GET /tags); clicking tags
//   filters the list by them (again: not by that one), by any of them or
//   all of them; "New tag" makes one; each tag's edit button opens a small
//   form to rename and recolour it (PATCH /tags/{id}) or delete it, after an
//   inline confirmation (DELETE /tags/{id}). "With notes" keeps the chats
//   that have notes (has_notes=1); "Archived" lists the archived chats
//   instead (archived=true), "Deleted" the deleted ones (deleted=true), to
//   restore them. These list filters are kept across renders of the view,
//   as the sidebar keeps its list, so opening a chat keeps them. A bulk
//   delete also offers "Restore" at once.
// - Selection: a checkbox on each chat of the list, shift-click selects the
//   range from the last one clicked; "Select all" selects every chat that
//   matches the list (all pages, however many): the server counts them
//   (GET /conversations/bulk/count with the list's filter), the bar says how
//   many, and the action sends that filter instead of ids, so that one
//   request and one statement act on them all; changing the list's filter,
//   or a checkbox, ends it. The bar acts on the selection with one
//   POST /conversations/bulk: tag, untag, archive (unarchive when the list
//   shows archived chats), delete (then "Restore" undoes it, by the ids the
//   server answered, BULK_IDS_MAX a request; restore alone when the list
//   shows deleted chats), and export
//   (the answer is the export ZIP of the selection, saved as a download);
//   "Summarise" queues a summary job, its progress shown (summarise.mjs),
//   as are the jobs still running when the page loads.
// - Each chat of the list shows its AI summary's first line under the
//   title, and the whole summary as the link's tooltip (as text: never HTML).
//
// Snippets come escaped from the server with <mark> around the matches; they
// are turned into text nodes and <mark> elements here, never parsed as HTML.

import { api, get, getAll, patch, post, del, isAbort, postForBlob } from '../../api.mjs';
import { h, replaceChildren, saveBlob, setMessage } from '../../dom.mjs';
import { hrefFor } from '../../router.mjs';
import { createSummarise } from './summarise.mjs';

const SEARCH_DELAY_MS = 300;
/** The most ids one POST /conversations/bulk names (more go as a filter). */
const BULK_IDS_MAX = 1000;
const SEARCH_MAX_CHARS = 500; // GET /search refuses a longer q (422)
const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const SOURCES = [
  ['', 'Any'],
  ['native', 'Made here'],
  ['chatgpt', 'ChatGPT import'],
  ['claude', 'Claude import'],
  ['gemini', 'Gemini import'],
  ['mistral', 'Mistral import'],
  ['share', 'Fork of a share'],
  ['api', 'API calls'],
];
/** The search parameters the filters set (GET /search, a saved search's query). */
const FILTER_KEYS = ['source', 'model', 'from', 'to', 'archived', 'has_notes'];

/** The list's filters, kept across renders of the view (as sidebar.mjs keeps its list). */
const listFilter = { tags: new Set(), mode: 'any', notes: false, archived: false, deleted: false };

/**
 * Redraw container with draw(), the focus kept: on the same element when it
 * is still there, else on the one drawn for the same control and tag.
 */
function keepFocus(container, draw) {
  const active = container.contains(document.activeElement) ? document.activeElement : null;
  const key = (e) => `${e.dataset.testid}|${e.dataset.tagId ?? e.value}`;
  const was = active ? key(active) : null;
  draw();
  if (!active || document.activeElement === active) return;
  if (container.contains(active)) active.focus();
  else [...container.querySelectorAll('[data-testid]')].find((e) => key(e) === was)?.focus();
}

/** A tag's colour: #rrggbb, or grey. */
function tagColour(color) {
  return /^#[0-9a-f]{6}$/i.test(color ?? '') ? color : '#888888';
}

/** el in a tag's colour, as its CSS property prop (through CSSOM: the page's CSP allows no style attribute). */
function coloured(el, prop, color) {
  el.style[prop] = tagColour(color);
  return el;
}

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
  let editor = null; // { id, el }: the tag being edited, its form
  let searchTags = new Set(); // the search's tag filter
  let selected = new Set();
  let allMatching = null; // { filter, count }: "Select all", every chat the filter matches
  let lastClicked = null;
  let deleted = []; // the chats the last bulk delete deleted (for Restore)
  let searchRequest = null;
  let timer = 0;

  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'organise-error', hidden: true });
  const option = ([value, label]) => h('option', { value }, label);
  const action = (label, testid, fn) => h('button', { type: 'button', class: 'button small', 'data-testid': testid, onclick: fn }, label);

  // ---- search -----------------------------------------------------------------
  const searchInput = h('input', {
    type: 'search',
    id: 'message-search',
    autocomplete: 'off',
    maxlength: String(SEARCH_MAX_CHARS),
    placeholder: 'Search messages',
    'data-testid': 'message-search',
  });
  const results = h('ul', { class: 'search-results', 'data-testid': 'search-results', 'aria-live': 'polite' });
  const saveButton = h(
    'button',
    { type: 'button', class: 'button small', 'data-testid': 'save-search', hidden: true, onclick: () => openSave() },
    'Save search',
  );
  const saveName = h('input', { type: 'text', id: 'save-search-name', maxlength: '100', required: true, 'data-testid': 'save-search-name' });
  const saveForm = h(
    'form',
    { class: 'save-search-form', 'data-testid': 'save-search-form', 'aria-label': 'Save search', hidden: true },
    h('label', { for: 'save-search-name' }, 'Name'),
    saveName,
    h('button', { type: 'submit', class: 'button small', 'data-testid': 'save-search-confirm' }, 'Save'),
    action('Cancel', 'save-search-cancel', () => closeSave()),
  );
  const savedList = h('ul', { class: 'saved-searches', 'data-testid': 'saved-searches' });

  // The search's filters, under a disclosure.
  const filterField = (id, label, control) => [h('label', { for: id }, label), control];
  const searchTagList = h('div', { class: 'filter-tags', 'data-testid': 'search-tags' });
  const searchMode = h(
    'select',
    { id: 'search-tags-mode', 'data-testid': 'search-tags-mode' },
    option(['any', 'any of them']),
    option(['all', 'all of them']),
  );
  const searchModeRow = h('div', { class: 'filter-mode', hidden: true }, h('label', { for: 'search-tags-mode' }, 'Tagged with'), searchMode);
  const searchFields = {
    source: h('select', { id: 'search-source', 'data-testid': 'search-source' }, SOURCES.map(option)),
    // The catalog's models, filled when the filters first open (chats that a model answered).
    model: h('select', { id: 'search-model', 'data-testid': 'search-model' }, option(['', 'Any'])),
    from: h('input', { type: 'date', id: 'search-from', 'data-testid': 'search-from' }),
    to: h('input', { type: 'date', id: 'search-to', 'data-testid': 'search-to' }),
    archived: h(
      'select',
      { id: 'search-archived', 'data-testid': 'search-archived' },
      [['', 'Any'], ['false', 'Not archived'], ['true', 'Archived only']].map(option),
    ),
    has_notes: h(
      'select',
      { id: 'search-notes', 'data-testid': 'search-notes' },
      [['', 'Any'], ['true', 'With notes'], ['false', 'Without notes']].map(option),
    ),
  };
  const filtersPanel = h(
    'div',
    { id: 'search-filters', class: 'search-filters', 'data-testid': 'search-filters', hidden: true },
    h('fieldset', { class: 'filter-tags-set' }, h('legend', {}, 'Tags'), searchTagList, searchModeRow),
    h(
      'div',
      { class: 'filter-grid' },
      filterField('search-source', 'Source', searchFields.source),
      filterField('search-model', 'Model', searchFields.model),
      filterField('search-from', 'From', searchFields.from),
      filterField('search-to', 'To', searchFields.to),
      filterField('search-archived', 'Archived', searchFields.archived),
      filterField('search-notes', 'Notes', searchFields.has_notes),
    ),
    action('Clear filters', 'search-filters-clear', () => {
      showFilters({});
      runSearch();
    }),
  );
  const filtersToggle = h(
    'button',
    {
      type: 'button',
      class: 'link-button filters-toggle',
      'aria-expanded': 'false',
      'aria-controls': 'search-filters',
      'data-testid': 'search-filters-toggle',
      onclick: () => openFilters(filtersPanel.hidden),
    },
    'Filters',
  );

  // ---- tags -------------------------------------------------------------------------
  const tagList = h('ul', { class: 'tag-list', 'data-testid': 'tag-list' });
  const tagsMode = h(
    'select',
    {
      id: 'tags-mode',
      'data-testid': 'tags-mode',
      onchange: () => {
        listFilter.mode = tagsMode.value;
        filterChanged();
        sidebar?.refresh();
      },
    },
    option(['any', 'any of them']),
    option(['all', 'all of them']),
  );
  tagsMode.value = listFilter.mode;
  const tagsModeRow = h('div', { class: 'filter-mode', hidden: true }, h('label', { for: 'tags-mode' }, 'Tagged with'), tagsMode);
  const tagName = h('input', { type: 'text', maxlength: '50', placeholder: 'New tag', 'data-testid': 'new-tag-name', 'aria-label': 'New tag' });
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
  const tagButton = action('Tag', 'bulk-tag-apply', () => bulk('tag', bulkTag.value));
  const untagButton = action('Untag', 'bulk-untag-apply', () => bulk('untag', bulkTag.value));
  const archiveButton = action('Archive', 'bulk-archive', () => bulk('archive'));
  const unarchiveButton = action('Unarchive', 'bulk-unarchive', () => bulk('unarchive'));
  const restoreButton = action('Restore', 'bulk-restore-selected', () => bulk('restore'));
  const deleteButton = action('Delete', 'bulk-delete', () => bulk('delete'));
  const exportButton = action('Export', 'bulk-export', () => exportSelected());
  const summariseButton = action('Summarise', 'bulk-summarise', () =>
    allMatching ? summarise.start([], allMatching.filter) : summarise.start([...selected]),
  );
  const bar = h(
    'div',
    { class: 'bulk-bar', 'data-testid': 'bulk-bar', hidden: true },
    count,
    bulkTag,
    tagButton,
    untagButton,
    archiveButton,
    unarchiveButton,
    restoreButton,
    deleteButton,
    exportButton,
    summariseButton,
    action('Clear', 'bulk-clear', () => select(new Set())),
  );
  const deletedText = h('span', {});
  const deletedNote = h(
    'p',
    { class: 'bulk-deleted', role: 'status', 'data-testid': 'bulk-deleted', hidden: true },
    deletedText,
    ' ',
    action('Restore', 'bulk-restore', () => restoreDeleted()),
  );
  const selectAll = action('Select all', 'select-all', () => selectAllMatching());
  const toggle = (label, testid, key, after) => {
    const button = h(
      'button',
      {
        type: 'button',
        class: 'tag-filter',
        'data-testid': testid,
        'aria-pressed': String(listFilter[key]),
        onclick: () => {
          listFilter[key] = !listFilter[key];
          button.setAttribute('aria-pressed', String(listFilter[key]));
          filterChanged();
          after?.();
          sidebar?.refresh();
        },
      },
      label,
    );
    return button;
  };
  const notesFilter = toggle('With notes', 'notes-filter', 'notes');
  // Archived and Deleted are two lists, never both at once.
  const only = (other, button) => () => {
    if (listFilter[other]) {
      listFilter[other] = false;
      button().setAttribute('aria-pressed', 'false');
    }
    select(new Set());
  };
  const archivedFilter = toggle('Archived', 'archived-filter', 'archived', only('deleted', () => deletedFilter));
  const deletedFilter = toggle('Deleted', 'deleted-filter', 'deleted', only('archived', () => archivedFilter));

  const el = h(
    'div',
    { class: 'organise' },
    h(
      'form',
      { class: 'chat-search', role: 'search', 'aria-label': 'Messages', onsubmit: (e) => (e.preventDefault(), runSearch()) },
      h('label', { for: 'message-search', class: 'visually-hidden' }, 'Search messages'),
      searchInput,
    ),
    h('div', { class: 'search-tools' }, filtersToggle, saveButton),
    filtersPanel,
    saveForm,
    results,
    h('h2', { class: 'conv-section-title' }, 'Saved searches'),
    savedList,
    h('h2', { class: 'conv-section-title' }, 'Tags'),
    tagList,
    tagsModeRow,
    h('div', { class: 'list-toggles' }, notesFilter, archivedFilter, deletedFilter),
    tagForm,
    selectAll,
    bar,
    deletedNote,
    summarise.el,
    error,
  );

  function fail(what, err) {
    if (isAbort(err) || err?.code === 'unauthenticated') return;
    setMessage(error, `${what}: ${err.message}`);
  }

  // ---- search -----------------------------------------------------------------------
  /** The search as GET /search (and a saved search) takes it: its words and filters. */
  function searchQuery() {
    const query = { q: searchInput.value.trim() };
    if (searchTags.size) query.tags = [...searchTags].join(',');
    if (searchTags.size > 1 && searchMode.value === 'all') query.tags_mode = 'all';
    for (const key of FILTER_KEYS) if (searchFields[key].value) query[key] = searchFields[key].value;
    return query;
  }

  /** Put a search's filters (a saved query) in the form. */
  function showFilters(query) {
    searchTags = new Set(String(query.tags ?? '').split(',').filter(Boolean));
    searchMode.value = query.tags_mode === 'all' ? 'all' : 'any';
    const value = {
      ...query,
      from: /^\d{4}-\d{2}-\d{2}/.test(query.from ?? '') ? query.from.slice(0, 10) : '',
      to: /^\d{4}-\d{2}-\d{2}/.test(query.to ?? '') ? query.to.slice(0, 10) : '',
      has_notes: { 1: 'true', true: 'true', 0: 'false', false: 'false' }[query.has_notes] ?? '',
    };
    // A saved model before the catalog's are listed: an option of its own meanwhile.
    if (value.model && ![...searchFields.model.options].some((o) => o.value === value.model)) {
      searchFields.model.append(option([value.model, value.model]));
    }
    for (const key of FILTER_KEYS) searchFields[key].value = value[key] ?? '';
    drawSearchTags();
  }

  /** How many filters the search has, shown on the disclosure. */
  function drawFilterCount() {
    const n = (searchTags.size ? 1 : 0) + FILTER_KEYS.filter((key) => searchFields[key].value).length;
    filtersToggle.textContent = n ? `Filters (${n})` : 'Filters';
  }

  function openFilters(open) {
    filtersPanel.hidden = !open;
    filtersToggle.setAttribute('aria-expanded', String(open));
    if (open) loadModels();
  }

  /** The model filter's choices: the catalog's models, once (a saved search's model kept). */
  let modelsLoaded = false;
  async function loadModels() {
    if (modelsLoaded) return;
    modelsLoaded = true;
    try {
      const tools = await getAll('tools?limit=100&sort=name', { signal });
      const chosen = searchFields.model.value;
      const items = tools.map((t) => [t.slug, t.display_name || t.slug]);
      if (chosen && !items.some(([slug]) => slug === chosen)) items.push([chosen, chosen]);
      replaceChildren(searchFields.model, option(['', 'Any']), ...items.map(option));
      searchFields.model.value = chosen;
    } catch (err) {
      modelsLoaded = false;
      fail('The models could not be listed', err);
    }
  }

  /** The search's tag filter: a checkbox per tag. */
  function drawSearchTags() {
    keepFocus(searchTagList, () => replaceChildren(
      searchTagList,
      tags.length
        ? tags.map((t) =>
            h(
              'label',
              { class: 'filter-tag' },
              h('input', {
                type: 'checkbox',
                value: t.id,
                checked: searchTags.has(t.id),
                'data-testid': 'search-tag',
                onchange: (event) => {
                  if (event.target.checked) searchTags.add(t.id);
                  else searchTags.delete(t.id);
                  searchModeRow.hidden = searchTags.size < 2;
                  drawFilterCount();
                  runSearch();
                },
              }),
              coloured(h('span', { class: 'tag-dot' }), 'backgroundColor', t.color),
              t.name,
            ),
          )
        : h('span', { class: 'muted' }, 'No tags yet.'),
    ));
    searchModeRow.hidden = searchTags.size < 2;
    drawFilterCount();
  }

  for (const input of [searchMode, ...Object.values(searchFields)]) {
    input.addEventListener('change', () => {
      drawFilterCount();
      runSearch();
    });
  }

  /** A search in words, for a saved search's default name and tooltip. */
  function describe(query) {
    const names = String(query.tags ?? '').split(',').filter(Boolean)
      .map((id) => tags.find((t) => t.id === id)?.name ?? 'a tag');
    const source = SOURCES.find(([value]) => value && value === query.source)?.[1] ?? query.source;
    const parts = [
      names.length ? names.join(query.tags_mode === 'all' ? ' and ' : ' or ') : null,
      source || null,
      query.model ? query.model : null,
      query.from || query.to ? `${query.from ? String(query.from).slice(0, 10) : '…'} to ${query.to ? String(query.to).slice(0, 10) : '…'}` : null,
      { true: 'archived', false: 'not archived' }[query.archived] ?? null,
      { 1: 'with notes', true: 'with notes', 0: 'without notes', false: 'without notes' }[query.has_notes] ?? null,
    ].filter(Boolean);
    return parts.length ? `${query.q} (${parts.join(', ')})` : String(query.q ?? '');
  }

  async function runSearch() {
    const query = searchQuery();
    searchRequest?.abort();
    saveButton.hidden = query.q === '';
    if (!query.q) {
      closeSave();
      replaceChildren(results);
      return;
    }
    const controller = new AbortController();
    searchRequest = controller;
    try {
      const body = await get(`search?${new URLSearchParams({ ...query, limit: 20 })}`, { signal: controller.signal });
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
                  {
                    class: 'search-result',
                    href: hrefFor(path),
                    'data-testid': 'search-result',
                    'data-conversation-id': item.conversation_id,
                    'data-message-id': item.message_id ?? '',
                  },
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
          : h('li', { class: 'muted', 'data-testid': 'search-empty' }, `Nothing matches “${query.q}”${query.tags || FILTER_KEYS.some((key) => query[key]) ? ' with these filters' : ''}.`),
      );
    } catch (err) {
      if (err?.status === 422 && !isAbort(err)) {
        // Refused words or filters: said where the results would be.
        replaceChildren(results, h('li', { class: 'form-error', role: 'alert', 'data-testid': 'search-invalid' }, err.message));
        return;
      }
      fail('The search failed', err);
    }
  }
  searchInput.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(runSearch, SEARCH_DELAY_MS);
  });

  function openSave() {
    const query = searchQuery();
    if (!query.q) return;
    saveName.value = describe(query).slice(0, 100);
    saveForm.hidden = false;
    saveName.focus();
    saveName.select();
  }

  function closeSave() {
    saveForm.hidden = true;
  }

  saveForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const query = searchQuery();
    const name = saveName.value.trim();
    if (!query.q || !name) return;
    try {
      await post('saved-searches', { name, query }, { signal });
      setMessage(error, '');
      closeSave();
      saveButton.focus();
      await loadSaved();
    } catch (err) {
      fail('The search could not be saved', err);
    }
  });
  saveForm.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      closeSave();
      saveButton.focus();
    }
  });

  /** Open a saved search: its words and filters back in the form, run. */
  function openSaved(query) {
    clearTimeout(timer);
    closeSave();
    searchInput.value = query?.q ?? '';
    showFilters(query ?? {});
    if (searchTags.size || FILTER_KEYS.some((key) => searchFields[key].value)) openFilters(true);
    runSearch();
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
                title: describe(s.query ?? {}),
                'data-testid': 'saved-search',
                onclick: () => openSaved(s.query),
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
  /** Load the tags; a tag gone leaves the filters (the list is loaded again then). */
  async function loadTags() {
    try {
      tags = (await get('tags', { signal }))?.items ?? [];
    } catch (err) {
      fail('Tags could not be loaded', err);
      return;
    }
    const known = new Set(tags.map((t) => t.id));
    const gone = [...listFilter.tags].filter((id) => !known.has(id));
    for (const id of gone) listFilter.tags.delete(id);
    for (const id of [...searchTags]) if (!known.has(id)) searchTags.delete(id);
    if (editor && !known.has(editor.id)) editor = null;
    drawTags();
    if (gone.length) sidebar?.refresh();
  }

  function drawTags() {
    keepFocus(tagList, () => replaceChildren(
      tagList,
      tags.map((t) =>
        h(
          'li',
          { class: 'tag-item' },
          h(
            'button',
            {
              type: 'button',
              class: 'tag-filter',
              'data-testid': 'tag-filter',
              'data-tag-id': t.id,
              'aria-pressed': String(listFilter.tags.has(t.id)),
              onclick: () => {
                if (listFilter.tags.has(t.id)) listFilter.tags.delete(t.id);
                else listFilter.tags.add(t.id);
                filterChanged();
                drawTags();
                sidebar?.refresh();
              },
            },
            coloured(h('span', { class: 'tag-dot', 'data-testid': 'tag-dot' }), 'backgroundColor', t.color),
            h('span', { class: 'tag-name' }, t.name),
            h('span', { class: 'tag-count muted', 'data-testid': 'tag-count' }, String(t.count)),
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'link-button tag-edit',
              title: 'Edit tag',
              'aria-label': `Edit tag ${t.name}`,
              'aria-expanded': String(editor?.id === t.id),
              'data-testid': 'tag-edit',
              'data-tag-id': t.id,
              onclick: () => (editor?.id === t.id ? closeEditor() : openEditor(t)),
            },
            '✎',
          ),
          editor?.id === t.id ? editor.el : null,
        ),
      ),
    ));
    tagsModeRow.hidden = listFilter.tags.size < 2;
    drawSearchTags();
    const chosen = bulkTag.value;
    replaceChildren(bulkTag, tags.map((t) => h('option', { value: t.id }, t.name)));
    if (tags.some((t) => t.id === chosen)) bulkTag.value = chosen;
  }

  function editButton(id) {
    return [...tagList.querySelectorAll('[data-testid="tag-edit"]')].find((b) => b.dataset.tagId === id) ?? null;
  }

  /** The form that renames, recolours or deletes tag t, under it in the list. */
  function openEditor(t) {
    const name = h('input', { type: 'text', id: 'tag-edit-name', maxlength: '50', required: true, value: t.name, 'data-testid': 'tag-edit-name' });
    const color = h('input', { type: 'color', value: tagColour(t.color).toLowerCase(), 'aria-label': 'Colour', 'data-testid': 'tag-edit-color' });
    const chats = t.count === 1 ? '1 chat loses it' : `${t.count} chats lose it`;
    const deleteButton = h(
      'button',
      {
        type: 'button',
        class: 'button small danger',
        'data-testid': 'tag-delete',
        onclick: () => {
          confirmRow.hidden = false;
          confirmButton.focus();
        },
      },
      'Delete',
    );
    const confirmButton = h(
      'button',
      { type: 'button', class: 'button small danger', 'data-testid': 'tag-delete-confirm', onclick: () => removeTag(t) },
      'Delete tag',
    );
    const confirmRow = h(
      'div',
      { class: 'tag-confirm', role: 'group', 'aria-label': 'Confirm deletion', 'data-testid': 'tag-delete-prompt', hidden: true },
      h('span', {}, `Delete “${t.name}”? ${chats}; the chats stay.`),
      confirmButton,
      h(
        'button',
        {
          type: 'button',
          class: 'button small',
          'data-testid': 'tag-delete-cancel',
          onclick: () => {
            confirmRow.hidden = true;
            deleteButton.focus();
          },
        },
        'Keep',
      ),
    );
    const form = h(
      'form',
      { class: 'tag-edit-form', 'aria-label': `Edit tag ${t.name}`, 'data-testid': 'tag-edit-form' },
      h('label', { for: 'tag-edit-name', class: 'visually-hidden' }, 'Name'),
      name,
      color,
      h('button', { type: 'submit', class: 'button small', 'data-testid': 'tag-edit-save' }, 'Save'),
      action('Cancel', 'tag-edit-cancel', () => closeEditor()),
      deleteButton,
      confirmRow,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      saveTag(t, name.value.trim(), color.value);
    });
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') closeEditor();
    });
    editor = { id: t.id, el: form };
    drawTags();
    name.focus();
  }

  function closeEditor() {
    const id = editor?.id;
    editor = null;
    drawTags();
    editButton(id)?.focus();
  }

  async function saveTag(t, name, color) {
    if (!name) return;
    try {
      await patch(`tags/${encodeURIComponent(t.id)}`, { name, color }, { signal });
      setMessage(error, '');
    } catch (err) {
      fail('The tag could not be changed', err);
      return;
    }
    editor = null;
    await loadTags();
    editButton(t.id)?.focus();
    sidebar?.refresh(); // the chats show their tags
  }

  async function removeTag(t) {
    try {
      await del(`tags/${encodeURIComponent(t.id)}`, { signal });
      setMessage(error, '');
    } catch (err) {
      fail('The tag could not be deleted', err);
      return;
    }
    editor = null;
    listFilter.tags.delete(t.id);
    searchTags.delete(t.id);
    await loadTags();
    tagName.focus();
    sidebar?.refresh();
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
  /** Select the chats ids (a Set), or, with all ({ filter, count }), every chat that filter matches. */
  function select(ids, all = null) {
    selected = ids;
    allMatching = all;
    for (const box of sidebar?.el.querySelectorAll('input[data-testid="conv-select"]') ?? []) {
      box.checked = Boolean(allMatching) || selected.has(box.value);
    }
    count.textContent = allMatching
      ? `All ${allMatching.count.toLocaleString()} matching ${allMatching.count === 1 ? 'chat' : 'chats'} selected`
      : `${selected.size} selected`;
    // A deleted chat can only be restored; an archived one unarchived.
    const gone = listFilter.deleted;
    for (const b of [bulkTag, tagButton, untagButton, deleteButton, exportButton, summariseButton]) b.hidden = gone;
    archiveButton.hidden = gone || listFilter.archived;
    unarchiveButton.hidden = gone || !listFilter.archived;
    restoreButton.hidden = !gone;
    bar.hidden = selected.size === 0 && !allMatching;
  }

  /** The list's filter changed: "all that match" no longer means what was counted. */
  function filterChanged() {
    if (allMatching) select(new Set());
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
    box.checked = Boolean(allMatching) || selected.has(id);
    box.addEventListener('click', (event) => {
      const order = sidebar ? sidebar.conversations().map((c) => String(c.id)) : [id];
      // A checkbox ends "all that match": the chats listed stay selected.
      const next = allMatching ? new Set(order) : new Set(selected);
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
      coloured(h('span', { class: 'tag-chip', 'data-testid': 'conv-tag', title: t.name }, t.name), 'borderColor', t.color),
    );
    if (tagsEl.length) li.querySelector('.conv-meta')?.append(' ', ...tagsEl);
    const summary = typeof conv.summary === 'string' ? conv.summary.trim() : '';
    const link = li.querySelector('.conv-link');
    if (summary && link) {
      link.title = summary;
      link.querySelector('.conv-title')?.after(h('span', { class: 'conv-summary', 'data-testid': 'conv-summary' }, summary.split('\n')[0]));
    }
  }

  /** The list's filter as GET /conversations takes it (its search words too), all pages. */
  function listFilterParams() {
    const q = sidebar?.query();
    return { ...listParams(), ...(q ? { q } : {}) };
  }

  /** Every chat the list shows with its filter, all pages, as many as the server counts. */
  async function selectAllMatching() {
    const filter = listFilterParams();
    let body;
    try {
      body = await get(`conversations/bulk/count?${new URLSearchParams(filter)}`, { signal });
    } catch (err) {
      fail('The chats could not be counted', err);
      return;
    }
    const n = Number(body?.count) || 0;
    setMessage(error, '');
    select(new Set(), n > 0 ? { filter, count: n } : null);
  }

  /** What a bulk request acts on: the filter of "all that match", else the ids selected. */
  function target() {
    return allMatching ? { filter: allMatching.filter } : { ids: [...selected] };
  }

  /**
   * One POST /conversations/bulk on what (ids or filter); its answer
   * ({ action, count, ids }) when done, the tags and (unless reload is
   * false) the list loaded again, else null.
   */
  async function change(what, act, tagId, reload = true) {
    let done;
    try {
      done = await post('conversations/bulk', { ...what, action: act, ...(tagId ? { tag_id: tagId } : {}) }, { signal });
      setMessage(error, '');
    } catch (err) {
      fail('The chats could not be changed', err);
      return null;
    }
    if (reload) {
      await loadTags();
      sidebar?.refresh();
    }
    return done ?? {};
  }

  async function bulk(act, tagId) {
    if ((selected.size === 0 && !allMatching) || ((act === 'tag' || act === 'untag') && !tagId)) return;
    const n = allMatching ? allMatching.count : selected.size;
    if (act === 'delete' && !window.confirm(`Delete ${n.toLocaleString()} ${n === 1 ? 'chat' : 'chats'}?`)) return;
    const done = await change(target(), act, tagId);
    if (!done) return;
    select(new Set());
    showDeleted(act === 'delete' && Array.isArray(done.ids) ? done.ids.map(String) : []);
  }

  /** After a bulk delete: how many, and Restore at once. */
  function showDeleted(ids) {
    deleted = ids;
    deletedText.textContent = ids.length === 1 ? '1 chat deleted.' : `${ids.length.toLocaleString()} chats deleted.`;
    deletedNote.hidden = ids.length === 0;
  }

  /** Restore what the last bulk delete deleted, by id (BULK_IDS_MAX a request); what failed stays offered. */
  async function restoreDeleted() {
    while (deleted.length) {
      const last = deleted.length <= BULK_IDS_MAX;
      if (!(await change({ ids: deleted.slice(0, BULK_IDS_MAX) }, 'restore', undefined, last))) {
        await loadTags();
        sidebar?.refresh();
        showDeleted(deleted);
        return;
      }
      deleted = deleted.slice(BULK_IDS_MAX);
    }
    showDeleted([]);
  }

  /** The selection as the export ZIP, downloaded (the selection stays). */
  async function exportSelected() {
    if (selected.size === 0 && !allMatching) return;
    try {
      saveBlob(await postForBlob('conversations/bulk', { ...target(), action: 'export' }, { signal }), 'aichat-export.zip');
      setMessage(error, '');
    } catch (err) {
      fail('The chats could not be exported', err);
    }
  }

  /** The list's filters: the tags chosen (any or all), with notes, archived or deleted. */
  function listParams() {
    const ids = [...listFilter.tags];
    return {
      ...(ids.length ? { tags: ids.join(',') } : {}),
      ...(ids.length > 1 && listFilter.mode === 'all' ? { tags_mode: 'all' } : {}),
      ...(listFilter.notes ? { has_notes: '1' } : {}),
      ...(listFilter.archived ? { archived: 'true' } : {}),
      ...(listFilter.deleted ? { deleted: 'true' } : {}),
    };
  }

  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    searchRequest?.abort();
  }, { once: true });

  select(selected);
  drawSearchTags();

  return {
    el,
    listParams,
    decorate,
    /** Put the panel in the sidebar (above its list) and load it. */
    attach(sb) {
      sidebar = sb;
      sb.el.insertBefore(el, sb.el.querySelector('#chat-list'));
      sb.el.querySelector('#chat-search')?.addEventListener('input', filterChanged);
      loadTags();
      loadSaved();
      summarise.resume();
    },
  };
}
