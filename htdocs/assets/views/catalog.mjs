// Catalog: the models a user can chat with (GET /categories, GET /tools).
//
// - Category list: All, Favourites, then every category with its count of
//   active tools. Picking one filters the grid.
// - Search as you type: the query goes out 200 ms after the last keystroke,
//   and a request still in flight is cancelled (AbortController) so a slow
//   answer for "gp" never lands after the one for "gpt".
// - Sort: Popular (the API's default), Name, Newest.
// - The view's state lives in the hash (#/catalog?q=…&category=…&sort=…),
//   written with history.replaceState so typing neither adds history entries
//   nor re-renders the view through hashchange; a reload restores the view.
//   `category` is a category id, or "favorites" for the Favourites filter.
// - Cards: star toggle (optimistic: the star flips at once and flips back,
//   with a message, if the server refuses), "Start a chat" links to
//   #/chat?tool=<slug>; tools the server cannot serve (provider missing or
//   without a key) are greyed out with the server's reason and no link.
// - "Load more" follows the `next` cursor.
//
// Everything the server sends goes in as text (h() makes text nodes only).

import { api, get, isAbort } from '../api.mjs';
import { h, replaceChildren, setMessage, formatNumber } from '../dom.mjs';
import { hrefFor } from '../router.mjs';

const PAGE_SIZE = 24;
const SEARCH_DELAY_MS = 200;

const ALL = 'all';
const FAVORITES = 'favorites';

const SORTS = [
  { value: 'popularity', label: 'Popular' },
  { value: 'name', label: 'Name' },
  { value: 'newest', label: 'Newest' },
];
const DEFAULT_SORT = SORTS[0].value;

// Boolean capabilities worth a badge, in this order; other true booleans get
// a badge named after their key. `streaming` is left out: nearly every model
// streams, so a badge on each card would only add noise.
const CAPABILITY_LABELS = {
  vision: 'Vision',
  tools: 'Tools',
  function_calling: 'Function calling',
  json_mode: 'JSON mode',
  code: 'Code',
  reasoning: 'Reasoning',
  audio: 'Audio',
  web_search: 'Web search',
};
const CAPABILITIES_WITHOUT_BADGE = new Set(['streaming', 'context_window']);

let cardIds = 0;

/** A non-empty trimmed string from the server, or ''. */
function str(value) {
  return typeof value === 'string' ? value.trim() : '';
}

function toolName(tool) {
  return str(tool.display_name) || str(tool.name) || str(tool.slug);
}

/** The view's state from the hash query. */
function readState(query) {
  const sort = query.get('sort');
  return {
    q: (query.get('q') ?? '').trim(),
    category: query.get('category') || ALL,
    sort: SORTS.some((s) => s.value === sort) ? sort : DEFAULT_SORT,
  };
}

/** The hash query for a state (defaults left out, so a bare #/catalog is the default view). */
function stateQuery(state) {
  const p = new URLSearchParams();
  if (state.q) p.set('q', state.q);
  if (state.category !== ALL) p.set('category', state.category);
  if (state.sort !== DEFAULT_SORT) p.set('sort', state.sort);
  return p.toString();
}

/** GET /tools path for a state (and a cursor for the next page). */
function toolsPath(state, after) {
  const p = new URLSearchParams();
  if (state.category === FAVORITES) p.set('favorites', 'true');
  else if (state.category !== ALL) p.set('category', state.category);
  if (state.q) p.set('q', state.q);
  p.set('sort', state.sort);
  p.set('limit', String(PAGE_SIZE));
  if (after) p.set('after', after);
  // Spaces as %20, not "+": "+" means a space only in form encoding, and not
  // every server decodes it so (URLSearchParams writes a real "+" as %2B).
  return `tools?${p.toString().replace(/\+/g, '%20')}`;
}

/** 128000 → "128K", 131072 → "128K", 1048576 → "1M", 1500000 → "1.5M". */
function compactTokens(n) {
  // Vendors count in both: prefer the base that gives a round number.
  const base = n % 1000 !== 0 && n % 1024 === 0 ? 1024 : 1000;
  const one = (x) => String(Number(x.toFixed(1)));
  if (n >= base * base) return `${one(n / (base * base))}M`;
  if (n >= base) return `${one(n / base)}K`;
  return String(n);
}

function humanize(key) {
  const words = key.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function capabilityBadges(capabilities) {
  const caps = capabilities && typeof capabilities === 'object' ? capabilities : {};
  const badges = [];
  const ctx = caps.context_window;
  if (typeof ctx === 'number' && Number.isFinite(ctx) && ctx > 0) {
    badges.push(
      h(
        'li',
        { class: 'badge', 'data-capability': 'context_window', title: `Context window: ${formatNumber(ctx)} tokens` },
        `${compactTokens(ctx)} context`,
      ),
    );
  }
  const known = Object.keys(CAPABILITY_LABELS).filter((key) => caps[key] === true);
  const others = Object.keys(caps)
    .filter((key) => caps[key] === true && !(key in CAPABILITY_LABELS) && !CAPABILITIES_WITHOUT_BADGE.has(key))
    .sort();
  for (const key of [...known, ...others]) {
    badges.push(h('li', { class: 'badge', 'data-capability': key }, CAPABILITY_LABELS[key] ?? humanize(key)));
  }
  return badges.length ? h('ul', { class: 'badges', 'aria-label': 'Capabilities' }, badges) : null;
}

/** A small picture for the card: the tool's avatar when it is ours (CSP allows 'self' and data:), else its initial. */
function avatar(tool, name) {
  const initial = h('span', { class: 'tool-avatar', 'aria-hidden': 'true' }, (name.charAt(0) || '?').toUpperCase());
  const src = str(tool.avatar);
  if (!src) return initial;
  let ok = false;
  try {
    const u = new URL(src, location.href);
    ok = (u.origin === location.origin && /^https?:$/.test(u.protocol)) || /^data:image\//i.test(src);
  } catch {
    ok = false;
  }
  if (!ok) return initial;
  const img = h('img', { class: 'tool-avatar', src, alt: '', width: '40', height: '40', loading: 'lazy' });
  img.addEventListener('error', () => img.replaceWith(initial), { once: true });
  return img;
}

export async function render({ outlet, query, path, signal }) {
  let state = readState(query);
  let categories = null; // null until GET /categories answers
  let next = null; // cursor of the next page
  let request = null; // AbortController of the GET /tools in flight
  let generation = 0;
  let loadedKey = null; // toolsPath of the list on screen (or being loaded)
  let timer = 0;
  const shown = new Set(); // slugs on screen
  const favorites = new Map(); // slug → { server, want, busy, button, name }

  // ---- Elements -----------------------------------------------------------

  const search = h('input', {
    id: 'catalog-search',
    type: 'search',
    name: 'q',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'Name, provider model, description…',
    'data-testid': 'catalog-search',
    'aria-controls': 'catalog-results',
  });
  search.value = state.q;

  const sort = h(
    'select',
    { id: 'catalog-sort', name: 'sort', 'data-testid': 'catalog-sort', 'aria-controls': 'catalog-results' },
    SORTS.map((s) => h('option', { value: s.value }, s.label)),
  );
  sort.value = state.sort;

  const categoryList = h('ul', { class: 'category-list' });
  const categoryError = h('p', { class: 'hint', 'data-testid': 'categories-error', hidden: true });

  const message = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'catalog-message', hidden: true });
  const status = h('p', { class: 'catalog-status muted', role: 'status', 'data-testid': 'catalog-status' });
  const empty = h('div', { class: 'catalog-empty', 'data-testid': 'catalog-empty', hidden: true });
  const grid = h('ul', { id: 'catalog-results', class: 'tool-grid', 'aria-labelledby': 'catalog-title' });
  const more = h(
    'button',
    {
      type: 'button',
      class: 'button',
      'data-testid': 'load-more',
      hidden: true,
      onclick: () => {
        // aria-disabled rather than disabled while loading, so focus stays on the button.
        if (more.getAttribute('aria-disabled') !== 'true') load({ more: true });
      },
    },
    'Load more',
  );

  const form = h(
    'form',
    { class: 'catalog-controls', role: 'search', 'aria-label': 'Models' },
    h('div', { class: 'field catalog-search' }, h('label', { for: 'catalog-search' }, 'Search models'), search),
    h('div', { class: 'field catalog-sort' }, h('label', { for: 'catalog-sort' }, 'Sort by'), sort),
  );

  replaceChildren(
    outlet,
    h(
      'div',
      { class: 'catalog' },
      h(
        'section',
        { class: 'panel catalog-head', 'aria-labelledby': 'catalog-title' },
        h('h1', { id: 'catalog-title' }, 'Catalog'),
        h('p', { class: 'lead' }, 'Pick a model to chat with.'),
        form,
        h('div', { class: 'catalog-categories', role: 'group', 'aria-label': 'Categories' }, categoryList),
        categoryError,
      ),
      message,
      status,
      empty,
      grid,
      h('div', { class: 'catalog-more' }, more),
    ),
  );

  // ---- State and URL ------------------------------------------------------

  function writeHash() {
    if (signal.aborted) return;
    const qs = stateQuery(state);
    const hash = hrefFor(path) + (qs ? `?${qs}` : '');
    // replaceState: no hashchange, so the router does not re-render the view.
    if (location.hash !== hash) history.replaceState(history.state, '', hash);
  }

  /** Apply control values (plus `changes`) and reload the list if the query changed. */
  function commit(changes = {}) {
    clearTimeout(timer);
    state = { ...state, q: search.value.trim(), sort: sort.value, ...changes };
    writeHash();
    paintCategories();
    if (toolsPath(state) !== loadedKey) load();
  }

  // ---- Categories ---------------------------------------------------------

  function categoryButton(id, label, count) {
    return h(
      'li',
      {},
      h(
        'button',
        {
          type: 'button',
          class: 'category',
          'data-testid': 'category-filter',
          'data-category': id,
          'aria-pressed': String(state.category === id),
          onclick: () => {
            if (state.category !== id) commit({ category: id });
          },
        },
        h('span', { class: 'category-name' }, label),
        typeof count === 'number' ? h('span', { class: 'category-count' }, formatNumber(count)) : null,
      ),
    );
  }

  function drawCategories() {
    const focused = categoryList.contains(document.activeElement) ? document.activeElement.dataset.category : null;
    replaceChildren(
      categoryList,
      categoryButton(ALL, 'All'),
      categoryButton(FAVORITES, 'Favourites'),
      (categories ?? []).map((c) => categoryButton(str(c.id), str(c.name) || 'Untitled', c.tool_count)),
    );
    if (focused) {
      for (const b of categoryList.querySelectorAll('button')) if (b.dataset.category === focused) b.focus();
    }
  }

  function paintCategories() {
    for (const b of categoryList.querySelectorAll('button[data-category]')) {
      b.setAttribute('aria-pressed', String(b.dataset.category === state.category));
    }
  }

  async function loadCategories() {
    try {
      const body = await get('categories', { signal });
      categories = Array.isArray(body?.items) ? body.items : [];
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      categories = [];
      setMessage(categoryError, `Categories could not be loaded: ${err.message}`);
    }
    drawCategories();
    const known =
      state.category === ALL || state.category === FAVORITES || categories.some((c) => c.id === state.category);
    if (!known && categoryError.hidden) {
      setMessage(message, 'That category no longer exists; showing all models.');
      commit({ category: ALL });
    }
  }

  // ---- Tool cards ---------------------------------------------------------

  function paintStar(slug) {
    const fav = favorites.get(slug);
    if (!fav) return;
    fav.button.setAttribute('aria-pressed', String(fav.want));
    fav.button.title = fav.want ? 'Remove from favourites' : 'Add to favourites';
    fav.button.firstChild.textContent = fav.want ? '★' : '☆';
  }

  /** Bring the server in line with what the user last asked for (clicks may come faster than answers). */
  async function syncFavorite(slug) {
    const fav = favorites.get(slug);
    if (!fav || fav.busy) return;
    fav.busy = true;
    try {
      while (fav.want !== fav.server) {
        const want = fav.want;
        try {
          const body = await api(`tools/${encodeURIComponent(slug)}/favorite`, {
            method: want ? 'PUT' : 'DELETE',
            signal,
          });
          fav.server = typeof body?.favorite === 'boolean' ? body.favorite : want;
        } catch (err) {
          if (isAbort(err) || err?.code === 'unauthenticated') return;
          fav.want = fav.server;
          paintStar(slug);
          setMessage(
            message,
            want
              ? `Could not add ${fav.name} to your favourites: ${err.message}`
              : `Could not remove ${fav.name} from your favourites: ${err.message}`,
          );
          return;
        }
      }
    } finally {
      fav.busy = false;
    }
  }

  function toggleFavorite(slug) {
    const fav = favorites.get(slug);
    if (!fav) return;
    setMessage(message, '');
    fav.want = !fav.want;
    paintStar(slug);
    syncFavorite(slug);
  }

  function toolCard(tool) {
    const slug = str(tool.slug);
    const name = toolName(tool);
    const available = tool.available !== false;
    const id = `tool-${++cardIds}`;
    const reasonId = `${id}-reason`;

    const star = h(
      'button',
      {
        type: 'button',
        class: 'star-button',
        'data-testid': 'favorite-toggle',
        'aria-label': `Favourite ${name}`,
        onclick: () => toggleFavorite(slug),
      },
      h('span', { 'aria-hidden': 'true' }, ''),
    );
    // A toggle still on its way to the server keeps its state (and its
    // pending request) across a reload of the list; otherwise the server's
    // answer is the truth.
    const fav = favorites.get(slug);
    if (fav) Object.assign(fav, { button: star, name });
    else {
      const on = tool.favorite === true;
      favorites.set(slug, { server: on, want: on, busy: false, button: star, name });
    }
    paintStar(slug);

    const provider = str(tool.provider);
    const modelId = str(tool.model_id);
    const description = str(tool.description);
    const category = str(tool.category?.name);

    const start = available
      ? h(
          'a',
          { class: 'button primary', href: `#/chat?tool=${encodeURIComponent(slug)}`, 'data-testid': 'start-chat' },
          'Start a chat',
        )
      : h(
          'span',
          {
            class: 'button primary is-disabled',
            role: 'link',
            'aria-disabled': 'true',
            'aria-describedby': reasonId,
            'data-testid': 'start-chat',
          },
          'Start a chat',
        );

    return h(
      'li',
      {
        class: available ? 'tool-card' : 'tool-card is-unavailable',
        'data-testid': 'tool-card',
        'data-slug': slug,
        'data-available': String(available),
      },
      h(
        'article',
        { 'aria-labelledby': `${id}-name` },
        h(
          'div',
          { class: 'tool-head' },
          avatar(tool, name),
          h(
            'div',
            { class: 'tool-title' },
            h('h2', { id: `${id}-name`, class: 'tool-name', 'data-testid': 'tool-name' }, name),
            h(
              'p',
              { class: 'tool-model', 'data-testid': 'tool-model' },
              provider,
              provider && modelId ? ' · ' : null,
              modelId ? h('code', {}, modelId) : null,
            ),
          ),
          star,
        ),
        category ? h('p', { class: 'tool-category' }, category) : null,
        description ? h('p', { class: 'tool-description', 'data-testid': 'tool-description' }, description) : null,
        capabilityBadges(tool.capabilities),
        available
          ? null
          : h(
              'p',
              { id: reasonId, class: 'tool-unavailable', 'data-testid': 'tool-unavailable' },
              `Unavailable: ${str(tool.unavailable_reason) || 'this model cannot be used right now.'}`,
            ),
        h('div', { class: 'tool-actions' }, start),
      ),
    );
  }

  // ---- Loading the list ---------------------------------------------------

  function emptyText() {
    const where =
      state.category === FAVORITES
        ? ' in your favourites'
        : state.category !== ALL
          ? ` in ${str(categories?.find((c) => c.id === state.category)?.name) || 'this category'}`
          : '';
    if (state.q) return `No models match “${state.q}”${where}.`;
    if (state.category === FAVORITES) return 'No favourites yet. Star a model to keep it here.';
    if (state.category !== ALL) return 'No models in this category yet.';
    return 'No models are available yet.';
  }

  function drawEmpty() {
    const actions = [];
    if (state.q) {
      actions.push(
        h(
          'button',
          {
            type: 'button',
            class: 'button',
            onclick: () => {
              search.value = '';
              commit();
              search.focus();
            },
          },
          'Clear search',
        ),
      );
    }
    if (state.category !== ALL) {
      actions.push(
        h('button', { type: 'button', class: 'button', onclick: () => commit({ category: ALL }) }, 'Show all models'),
      );
    }
    replaceChildren(
      empty,
      h('p', { class: 'catalog-empty-text' }, emptyText()),
      actions.length ? h('div', { class: 'actions' }, actions) : null,
    );
    empty.hidden = false;
  }

  function drawStatus() {
    const n = shown.size;
    if (n === 0) {
      // The empty box says it; the status repeats it for screen readers only.
      status.textContent = emptyText();
      status.classList.add('visually-hidden');
      return;
    }
    status.classList.remove('visually-hidden');
    status.textContent = `${formatNumber(n)} ${n === 1 ? 'model' : 'models'}${next ? ' shown, more available' : ''}`;
  }

  function retryButton() {
    return h('button', { type: 'button', class: 'button', onclick: () => load() }, 'Try again');
  }

  async function load({ more: loadMore = false } = {}) {
    request?.abort();
    const controller = new AbortController();
    request = controller;
    const gen = ++generation;
    const after = loadMore ? next : null;
    if (!loadMore) loadedKey = toolsPath(state);

    grid.setAttribute('aria-busy', 'true');
    if (loadMore) {
      more.setAttribute('aria-disabled', 'true');
      more.textContent = 'Loading…';
    } else if (shown.size === 0) {
      status.classList.remove('visually-hidden');
      status.textContent = 'Loading models…';
    }

    try {
      const body = await get(toolsPath(state, after), { signal: controller.signal });
      if (gen !== generation) return;
      const items = Array.isArray(body?.items) ? body.items : [];
      next = typeof body?.next === 'string' && body.next !== '' ? body.next : null;

      if (!loadMore) {
        shown.clear();
        grid.replaceChildren();
        for (const [slug, fav] of favorites) if (!fav.busy) favorites.delete(slug);
      }
      let firstNew = null;
      for (const tool of items) {
        const slug = str(tool?.slug);
        if (!slug || shown.has(slug)) continue; // a tool that moved between pages
        shown.add(slug);
        const card = toolCard(tool);
        firstNew ??= card;
        grid.append(card);
      }

      if (shown.size === 0) drawEmpty();
      else empty.hidden = true;
      more.hidden = next === null;
      drawStatus();

      // After "Load more" the button may be gone: continue from the first new card.
      const focusLost = document.activeElement === more || document.activeElement === document.body;
      if (loadMore && more.hidden && firstNew && focusLost) {
        const heading = firstNew.querySelector('h2');
        heading.setAttribute('tabindex', '-1');
        heading.focus();
      }
    } catch (err) {
      if (gen !== generation || isAbort(err) || err?.code === 'unauthenticated') return;
      if (!loadMore) {
        loadedKey = null; // let the same query be asked again
        shown.clear();
        grid.replaceChildren();
        next = null;
        more.hidden = true;
        status.textContent = '';
        replaceChildren(
          empty,
          h('p', { class: 'form-error', role: 'alert' }, `The models could not be loaded: ${err.message}`),
          h('div', { class: 'actions' }, retryButton()),
        );
        empty.hidden = false;
      } else {
        setMessage(message, `More models could not be loaded: ${err.message}`);
      }
    } finally {
      if (gen === generation) {
        grid.removeAttribute('aria-busy');
        more.removeAttribute('aria-disabled');
        more.textContent = 'Load more';
      }
    }
  }

  // ---- Events -------------------------------------------------------------

  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => commit(), SEARCH_DELAY_MS);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault(); // Enter searches at once
    commit();
  });
  sort.addEventListener('change', () => commit());

  signal.addEventListener(
    'abort',
    () => {
      clearTimeout(timer);
      request?.abort();
    },
    { once: true },
  );

  // ---- Start --------------------------------------------------------------

  drawCategories();
  writeHash(); // normalise (e.g. drop an unknown sort)
  load();
  loadCategories();

  return () => {
    clearTimeout(timer);
    request?.abort();
  };
}
