// The template gallery (#/templates/gallery): everyone's public templates,
// searched by name and description, in one category or all, most used or
// newest first, a page at a time (More). Each card offers Use (its form in a
// new chat) and Copy (a private template of your own, then editable under
// Templates); administrators may Unpublish (audited by the server).

import { get, post, isAbort } from '../api.mjs';
import { h, replaceChildren, setMessage, formatNumber } from '../dom.mjs';
import { hrefFor } from '../router.mjs';
import { isAdmin, session } from '../session.mjs';

const PAGE = 24;
const SEARCH_DELAY_MS = 250;

export async function render({ outlet, signal }) {
  let next = null;
  let seq = 0;
  let timer = 0;

  const search = h('input', { id: 'gallery-q', type: 'search', placeholder: 'Search templates', 'data-testid': 'gallery-search' });
  const category = h('select', { id: 'gallery-category', 'data-testid': 'gallery-category' }, h('option', { value: '' }, 'All categories'));
  const sort = h(
    'select',
    { id: 'gallery-sort', 'data-testid': 'gallery-sort' },
    h('option', { value: 'use' }, 'Most used'),
    h('option', { value: 'newest' }, 'Newest'),
  );
  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'gallery-status' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'gallery-error' });
  const list = h('ul', { class: 'template-list gallery-list', 'data-testid': 'gallery-list' });
  const more = h('button', { type: 'button', class: 'button', hidden: true, 'data-testid': 'gallery-more' }, 'More');

  function card(t) {
    const note = h('span', { class: 'muted', role: 'status', 'data-testid': 'gallery-card-status' });
    const copy = h('button', { type: 'button', class: 'button small', 'data-testid': 'gallery-copy' }, 'Copy');
    copy.addEventListener('click', async () => {
      copy.disabled = true;
      try {
        const mine = await post(`templates/${encodeURIComponent(t.id)}/copy`, undefined, { signal });
        replaceChildren(note, 'Copied to ', h('a', { href: hrefFor('/templates'), 'data-testid': 'gallery-copied' }, 'your templates'), ` as “${mine.name}”.`);
      } catch (err) {
        if (!isAbort(err)) note.textContent = err.message;
      } finally {
        copy.disabled = false;
      }
    });
    const unpublish = isAdmin(session.user)
      ? h(
          'button',
          {
            type: 'button',
            class: 'button small danger',
            'data-testid': 'gallery-unpublish',
            onclick: async () => {
              try {
                await post(`admin/templates/${encodeURIComponent(t.id)}/unpublish`, undefined, { signal });
                li.remove();
              } catch (err) {
                if (!isAbort(err)) note.textContent = err.message;
              }
            },
          },
          'Unpublish',
        )
      : null;
    const li = h(
      'li',
      { class: 'template-item', 'data-testid': 'gallery-item', 'data-id': t.id },
      h('strong', { 'data-testid': 'gallery-name' }, t.name),
      h('p', { class: 'muted' }, `${t.category} · used ${formatNumber(t.usage_count)} times · by ${t.owner?.display_name || t.owner?.username || 'someone'}`),
      t.description ? h('p', {}, t.description) : null,
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'button small primary', href: `${hrefFor('/chat')}?template=${encodeURIComponent(t.id)}`, 'data-testid': 'gallery-use' }, 'Use'),
        copy,
        unpublish,
        note,
      ),
    );
    return li;
  }

  async function load(append) {
    const mine = ++seq;
    const params = new URLSearchParams({ sort: sort.value, limit: String(PAGE) });
    if (search.value.trim()) params.set('q', search.value.trim());
    if (category.value) params.set('category', category.value);
    if (append && next) params.set('after', next);
    status.textContent = 'Loading…';
    setMessage(error, '');
    try {
      const body = await get(`templates/gallery?${params}`, { signal });
      if (mine !== seq) return;
      const items = Array.isArray(body?.items) ? body.items : [];
      if (!append) list.replaceChildren();
      list.append(...items.map(card));
      next = body?.next ?? null;
      more.hidden = !next;
      status.textContent = list.children.length ? '' : 'No public template matches.';
    } catch (err) {
      if (!isAbort(err) && mine === seq) {
        setMessage(error, err.message);
        status.textContent = '';
      }
    }
  }

  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(false), SEARCH_DELAY_MS);
  });
  category.addEventListener('change', () => load(false));
  sort.addEventListener('change', () => load(false));
  more.addEventListener('click', () => load(true));
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });

  replaceChildren(
    outlet,
    h(
      'section',
      { class: 'templates gallery', 'aria-labelledby': 'gallery-title' },
      h(
        'header',
        {},
        h('h1', { id: 'gallery-title', tabindex: '-1' }, 'Template gallery'),
        h('p', { class: 'lead' }, 'Everyone’s public templates. Use one as it is, or copy it to make it your own. ', h('a', { href: hrefFor('/templates') }, 'Your templates')),
      ),
      h(
        'div',
        { class: 'gallery-filters' },
        h('label', { for: 'gallery-q', class: 'visually-hidden' }, 'Search'),
        search,
        h('label', { for: 'gallery-category', class: 'visually-hidden' }, 'Category'),
        category,
        h('label', { for: 'gallery-sort', class: 'visually-hidden' }, 'Sort'),
        sort,
      ),
      status,
      error,
      list,
      more,
    ),
  );

  try {
    const cats = await get('templates/gallery/categories', { signal });
    category.append(...(cats?.items ?? []).map((c) => h('option', { value: c.name }, `${c.name} (${formatNumber(c.count)})`)));
  } catch (err) {
    if (isAbort(err)) return;
  }
  await load(false);
}
