// Shared links: the links the user made to their chats (GET /shares, newest
// first, expired ones included), each with its chat, who can open it, when
// it was made and expires, its views, what it shows (the chat, or which
// version of it), whether its page shows the notes, the URL with Copy, and
// Revoke (DELETE /conversations/{id}/share). Changing a link is done in the
// chat's Share dialog.

import { del, get, isAbort } from '../api.mjs';
import { h, replaceChildren, formatDate, setMessage } from '../dom.mjs';
import { hrefFor } from '../router.mjs';
import {
  audienceText,
  expiryText,
  linkField,
  notesText,
  shareFact,
  shownText,
  versionLabel,
  viewsText,
} from '../share-link.mjs';
import { conversationTitle } from './chat/sidebar.mjs';

export async function render({ outlet, signal }) {
  let shares = [];

  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'shares-status' }, 'Loading…');
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'shares-error', hidden: true });
  const list = h('ul', { class: 'share-list', 'aria-labelledby': 'shares-title', 'data-testid': 'share-list' });
  const empty = h(
    'div',
    { class: 'catalog-empty', 'data-testid': 'shares-empty', hidden: true },
    h('p', { class: 'catalog-empty-text' }, 'You have not shared any chats.'),
    h('p', { class: 'hint' }, 'Open one of your chats and choose Share to make a link to it.'),
  );

  replaceChildren(
    outlet,
    h(
      'section',
      { class: 'shares', 'aria-labelledby': 'shares-title' },
      h(
        'header',
        {},
        h('h1', { id: 'shares-title', tabindex: '-1' }, 'Shared links'),
        h(
          'p',
          { class: 'lead' },
          'Links to your chats. Each shows the chat as it was when shared, or a version of it; revoking a link stops it working at once.',
        ),
      ),
      status,
      error,
      list,
      empty,
    ),
  );

  function item(share) {
    const title = conversationTitle(share);
    const link = linkField({ id: `share-url-${share.id}`, label: `Link to ${title}` });
    link.setUrl(share.url);
    const revoke = h(
      'button',
      { type: 'button', class: 'button small danger', 'data-testid': 'share-revoke' },
      'Revoke link',
    );
    const li = h(
      'li',
      { class: 'share-item', 'data-testid': 'share-item', 'data-id': share.id },
      h(
        'article',
        { 'aria-label': title },
        h(
          'div',
          { class: 'share-item-head' },
          h(
            'h2',
            { class: 'share-item-title' },
            h(
              'a',
              { href: hrefFor(`/chat/${encodeURIComponent(share.conversation_id)}`), 'data-testid': 'share-chat-link' },
              title,
            ),
          ),
          h(
            'ul',
            { class: 'badges' },
            h('li', { class: 'badge', 'data-testid': 'share-audience' }, audienceText(share)),
            share.expired ? h('li', { class: 'badge is-expired', 'data-testid': 'share-expired' }, 'Expired') : null,
          ),
        ),
        h(
          'dl',
          { class: 'share-facts' },
          shareFact('Created', formatDate(share.created_at), 'share-created'),
          shareFact('Expires', expiryText(share), 'share-expires'),
          shareFact('Views', viewsText(share), 'share-views'),
          shareFact('Shows', shownText(share), 'share-messages'),
          share.version_id ? shareFact('Version', versionLabel(share.version), 'share-version') : null,
          shareFact('Notes', notesText(share), 'share-notes'),
        ),
        link.el,
        h('div', { class: 'actions' }, revoke),
      ),
    );
    revoke.addEventListener('click', () => revokeShare(share, revoke));
    return li;
  }

  function draw() {
    replaceChildren(list, shares.map(item));
    list.hidden = shares.length === 0;
    empty.hidden = shares.length > 0;
  }

  async function revokeShare(share, button) {
    // eslint-disable-next-line no-alert
    if (!window.confirm(`Revoke the link to “${conversationTitle(share)}”? Anyone who has it will no longer be able to open it.`)) {
      return;
    }
    setMessage(error, '');
    button.disabled = true;
    try {
      await del(`conversations/${encodeURIComponent(share.conversation_id)}/share`, { signal });
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      button.disabled = false;
      // 404: it was revoked meanwhile (elsewhere), so it goes from the list too.
      if (err?.status !== 404) {
        setMessage(error, `The link could not be revoked: ${err.message}`);
        return;
      }
    }
    shares = shares.filter((s) => s.id !== share.id);
    draw();
    status.textContent = `The link to “${conversationTitle(share)}” was revoked.`;
    outlet.querySelector('h1').focus();
  }

  try {
    const body = await get('shares', { signal });
    shares = Array.isArray(body?.items) ? body.items : [];
  } catch (err) {
    if (isAbort(err) || err?.code === 'unauthenticated') return;
    status.textContent = '';
    setMessage(error, `Your shared links could not be loaded: ${err.message}`);
    return;
  }
  status.textContent = '';
  draw();
}
