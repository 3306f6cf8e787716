// The chat page's sidebar: "New chat", search over titles, the conversation
// list (pinned ones first, then the rest by latest activity) and "Load more".
//
// - Search as you type: GET /conversations?q=… goes out 250 ms after the
//   last keystroke and any request still in flight is cancelled
//   (AbortController), so a slow answer for "ab" never lands after "abc".
// - Pinned chats are one request (pinned=true, up to 100), the others are
//   paged with the `next` cursor (pinned=false).
// - The last list and search are kept for the next visit of the page, so
//   moving between chats repaints the sidebar at once and refreshes it
//   quietly.
// - More list parameters come from listParams (the filters of
//   chat/organise.mjs: tags, with notes, archived, deleted): the list's
//   heading and its empty state say when archived or deleted chats or
//   filters are shown; a chat changed elsewhere (upsert) goes only into a
//   list it fits: deleted, archived or neither, and into a filtered list
//   only when it is in it already.

import { sourceBadge } from './export.mjs';
import { get, isAbort } from '../../api.mjs';
import { h, replaceChildren, setMessage } from '../../dom.mjs';
import { hrefFor } from '../../router.mjs';

const PAGE_SIZE = 20;
const PINNED_LIMIT = 100;
const SEARCH_DELAY_MS = 250;

/** What the sidebar showed last (kept across renders of the view). */
let cache = null;

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const yearFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** Today → "14:05", this year → "Mar 3", else "Mar 3, 2023". */
function shortDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return timeFormat.format(d);
  if (d.getFullYear() === now.getFullYear()) return dayFormat.format(d);
  return yearFormat.format(d);
}

/** Which chats the list shows: 'deleted', 'archived', or '' for the others. */
function listKind(params) {
  if (params.deleted === 'true') return 'deleted';
  return params.archived === 'true' ? 'archived' : '';
}

export function conversationTitle(conv) {
  const title = typeof conv?.title === 'string' ? conv.title.trim() : '';
  return title || 'Untitled chat';
}

function listPath(params, q, extra = {}) {
  const p = new URLSearchParams({ ...params, ...extra });
  if (q) p.set('q', q);
  // Spaces as %20, not "+" (see catalog.mjs).
  return `conversations?${p.toString().replace(/\+/g, '%20')}`;
}

/**
 * @param {object} options
 * @param {AbortSignal} options.signal  the view's signal
 * @param {string|null} options.currentId  the conversation shown
 * @param {() => void} options.onNewChat
 * @param {() => object} [options.listParams]  more list parameters (the filters: chat/organise.mjs)
 * @param {(li: HTMLElement, conv: object) => void} [options.decorate]  adds to each item (selection)
 */
export function createSidebar({ signal, currentId, onNewChat, listParams = () => ({}), decorate }) {
  let current = currentId;
  let q = cache?.q ?? '';
  let pinned = cache?.pinned ?? [];
  let recent = cache?.recent ?? [];
  let next = cache?.next ?? null;
  let loaded = cache !== null;
  let request = null;
  let generation = 0;
  let timer = 0;

  const search = h('input', {
    id: 'chat-search',
    type: 'search',
    name: 'q',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'Search chats',
    'data-testid': 'chat-search',
    'aria-controls': 'chat-list',
  });
  search.value = q;

  const pinnedList = h('ul', { class: 'conv-list', 'data-testid': 'pinned-list', 'aria-labelledby': 'chat-pinned-title' });
  const recentList = h('ul', { class: 'conv-list', 'data-testid': 'recent-list', 'aria-labelledby': 'chat-recent-title' });
  const pinnedSection = h(
    'div',
    { class: 'conv-section' },
    h('h2', { id: 'chat-pinned-title', class: 'conv-section-title' }, 'Pinned'),
    pinnedList,
  );
  const recentTitle = h('h2', { id: 'chat-recent-title', class: 'conv-section-title' }, 'Chats');
  const recentSection = h('div', { class: 'conv-section' }, recentTitle, recentList);
  const empty = h('p', { class: 'conv-empty muted', 'data-testid': 'chat-list-empty', hidden: true });
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'chat-list-error', hidden: true });
  const status = h('p', { class: 'visually-hidden', role: 'status' });
  const more = h(
    'button',
    {
      type: 'button',
      class: 'button conv-more',
      'data-testid': 'chat-list-more',
      hidden: true,
      onclick: () => {
        if (more.getAttribute('aria-disabled') !== 'true') load({ more: true });
      },
    },
    'Load more',
  );
  const list = h('div', { id: 'chat-list', class: 'conv-lists' }, pinnedSection, recentSection, empty, error, more);

  const el = h(
    'aside',
    { class: 'chat-sidebar', 'aria-label': 'Chats' },
    h(
      'button',
      { type: 'button', class: 'button primary wide', 'data-testid': 'new-chat', onclick: () => onNewChat() },
      'New chat',
    ),
    h(
      'form',
      { class: 'chat-search', role: 'search', 'aria-label': 'Chats' },
      h('label', { for: 'chat-search', class: 'visually-hidden' }, 'Search chats'),
      search,
    ),
    status,
    list,
  );

  function item(conv) {
    const li = plainItem(conv);
    decorate?.(li, conv);
    return li;
  }

  function plainItem(conv) {
    const id = String(conv.id);
    const tools = Array.isArray(conv.tools) ? conv.tools.map((t) => t.display_name || t.slug).filter(Boolean) : [];
    const when = shortDate(conv.last_message_at || conv.updated_at || conv.created_at);
    return h(
      'li',
      {},
      h(
        'a',
        {
          class: 'conv-link',
          href: hrefFor(`/chat/${encodeURIComponent(id)}`),
          'data-testid': 'conversation-link',
          'data-id': id,
          'aria-current': id === current ? 'page' : null,
        },
        h('span', { class: 'conv-title', 'data-testid': 'conversation-title' }, conversationTitle(conv), ' ', sourceBadge(conv)),
        h(
          'span',
          { class: 'conv-meta' },
          conv.is_group ? `Group · ${tools.length} models` : tools[0] || '',
          tools.length && when ? ' · ' : '',
          when,
        ),
      ),
    );
  }

  /** What the list shows when it is empty. */
  function emptyText() {
    const params = listParams();
    const kind = listKind(params);
    const filtered = Object.keys(params).some((key) => key !== kind);
    const which = kind ? `${kind} ` : '';
    if (q) return `No ${which}chats match “${q}”${filtered ? ' with these filters' : ''}.`;
    if (filtered) return `No ${which}chats match these filters.`;
    return kind ? `No ${kind} chats.` : 'No chats yet.';
  }

  function draw() {
    replaceChildren(pinnedList, pinned.map(item));
    replaceChildren(recentList, recent.map(item));
    pinnedSection.hidden = pinned.length === 0;
    recentSection.hidden = recent.length === 0;
    const kind = listKind(listParams());
    const title = kind ? `${kind[0].toUpperCase()}${kind.slice(1)} chats` : 'Chats';
    recentTitle.textContent = pinned.length ? `Other ${title.toLowerCase()}` : title;
    const none = pinned.length === 0 && recent.length === 0;
    if (none && loaded) setMessage(empty, emptyText());
    else setMessage(empty, '');
    more.hidden = next === null;
  }

  function remember() {
    cache = { q, pinned, recent, next };
  }

  async function load({ more: loadMore = false } = {}) {
    request?.abort();
    const controller = new AbortController();
    request = controller;
    const gen = ++generation;
    const options = { signal: controller.signal };
    list.setAttribute('aria-busy', 'true');
    if (loadMore) {
      more.setAttribute('aria-disabled', 'true');
      more.textContent = 'Loading…';
    }
    try {
      if (loadMore) {
        const body = await get(listPath({ pinned: 'false', limit: PAGE_SIZE, after: next }, q, listParams()), options);
        if (gen !== generation) return;
        const seen = new Set(recent.map((c) => c.id));
        recent = recent.concat((body?.items ?? []).filter((c) => !seen.has(c.id)));
        next = body?.next || null;
      } else {
        const [p, r] = await Promise.all([
          get(listPath({ pinned: 'true', limit: PINNED_LIMIT }, q, listParams()), options),
          get(listPath({ pinned: 'false', limit: PAGE_SIZE }, q, listParams()), options),
        ]);
        if (gen !== generation) return;
        pinned = Array.isArray(p?.items) ? p.items : [];
        recent = Array.isArray(r?.items) ? r.items : [];
        next = r?.next || null;
      }
      loaded = true;
      setMessage(error, '');
      draw();
      remember();
      status.textContent = q
        ? `${pinned.length + recent.length} ${pinned.length + recent.length === 1 ? 'chat' : 'chats'} found`
        : '';
    } catch (err) {
      if (gen !== generation || isAbort(err) || err?.code === 'unauthenticated') return;
      setMessage(error, `${loadMore ? 'More chats' : 'Your chats'} could not be loaded: ${err.message}`);
    } finally {
      if (gen === generation) {
        list.removeAttribute('aria-busy');
        more.removeAttribute('aria-disabled');
        more.textContent = 'Load more';
      }
    }
  }

  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const value = search.value.trim();
      if (value === q) return;
      q = value;
      load();
    }, SEARCH_DELAY_MS);
  });
  el.querySelector('form').addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(timer);
    q = search.value.trim();
    load();
  });

  function stop() {
    clearTimeout(timer);
    request?.abort();
  }
  signal.addEventListener('abort', stop, { once: true });

  draw();
  load();

  return {
    el,
    /** Reload the list (same search). */
    refresh: () => load(),
    /** The conversations listed, in their order on screen. */
    conversations: () => [...pinned, ...recent],
    /** The title search typed (the list's q). */
    query: () => q,
    /** Mark the conversation shown. */
    setCurrent(id) {
      current = id;
      for (const a of el.querySelectorAll('a.conv-link')) {
        if (a.dataset.id === id) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
    },
    /** Show a new or changed conversation at once (before the next refresh). */
    upsert(conv) {
      if (!conv?.id) return;
      const params = listParams();
      const listed = pinned.some((c) => c.id === conv.id) || recent.some((c) => c.id === conv.id);
      const kind = listKind(params);
      const filtered = Object.keys(params).some((key) => key !== kind);
      const fits =
        Boolean(conv.deleted_at) === (kind === 'deleted') &&
        (kind === 'deleted' || Boolean(conv.archived) === (kind === 'archived')) &&
        (listed || !filtered);
      pinned = pinned.filter((c) => c.id !== conv.id);
      recent = recent.filter((c) => c.id !== conv.id);
      if (fits && (!q || conversationTitle(conv).toLowerCase().includes(q.toLowerCase()))) {
        if (conv.pinned) pinned.unshift(conv);
        else recent.unshift(conv);
      }
      loaded = true;
      draw();
      remember();
    },
    stop,
  };
}
