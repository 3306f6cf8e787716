// Continue a shared chat: #/fork/<token>, where the share pages' "Continue
// this conversation" link leads. Shows the shared chat's title, models and
// how many messages it holds (GET /shares/{token}); "Continue this
// conversation" copies it into a new chat of the user's own (POST
// /shares/{token}/fork) and opens it. Unknown or revoked links (404) and
// expired ones (410) say so.

import { get, post, isAbort } from '../api.mjs';
import { h, replaceChildren, formatDate, setMessage } from '../dom.mjs';
import { messagesText } from '../share-link.mjs';
import { conversationTitle } from './chat/sidebar.mjs';

/** The page for a link that cannot be used, or null for another error. */
function deadLink(err) {
  if (err?.status === 404) {
    return {
      title: 'This link does not exist',
      text: 'The shared chat was not found: the link may be mistyped, or its owner revoked it.',
    };
  }
  if (err?.status === 410) {
    return { title: 'This link has expired', text: 'Ask the person who shared the chat for a new link.' };
  }
  return null;
}

export async function render({ outlet, params, signal, navigate, setTitle }) {
  const token = params.token;
  const panel = h('section', { class: 'panel fork', 'aria-labelledby': 'fork-title', 'data-testid': 'fork' });
  replaceChildren(outlet, panel);

  function showDead({ title, text }) {
    setTitle(title);
    replaceChildren(
      panel,
      h('h1', { id: 'fork-title', 'data-testid': 'fork-title' }, title),
      h('p', { 'data-testid': 'fork-message' }, text),
      h('p', {}, h('a', { href: '#/chat' }, 'Go to your chats')),
    );
  }

  let shared;
  try {
    shared = await get(`shares/${encodeURIComponent(token)}`, { signal });
  } catch (err) {
    if (isAbort(err) || err?.code === 'unauthenticated') return;
    const dead = deadLink(err);
    if (!dead) throw err;
    showDead(dead);
    return;
  }

  const title = conversationTitle(shared);
  const messages = Array.isArray(shared.messages) ? shared.messages : [];
  const models = (Array.isArray(shared.models) ? shared.models : [])
    .map((m) => (typeof m?.display_name === 'string' && m.display_name.trim()) || m?.slug)
    .filter(Boolean);
  setTitle(title);

  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'fork-error', hidden: true });
  const button = h('button', { type: 'button', class: 'button primary', 'data-testid': 'fork-continue' }, 'Continue this conversation');
  const summary = [messagesText(messages.length)];
  if (models.length) summary.push(`with ${models.join(', ')}`);

  replaceChildren(
    panel,
    h('p', { class: 'fork-kicker muted' }, 'Shared chat'),
    h('h1', { id: 'fork-title', 'data-testid': 'fork-title' }, title),
    h('p', { class: 'lead', 'data-testid': 'fork-summary' }, summary.join(' ')),
    h('p', { class: 'muted' }, `Shared on ${formatDate(shared.created_at)}`, shared.expires_at ? ` · expires ${formatDate(shared.expires_at)}` : ''),
    h(
      'p',
      {},
      'Continuing makes a copy of these messages in a new chat of your own, where you can carry on. The shared chat stays as it is.',
    ),
    error,
    h('div', { class: 'actions' }, button),
  );

  button.addEventListener('click', async () => {
    if (button.disabled) return;
    setMessage(error, '');
    button.disabled = true;
    button.textContent = 'Copying…';
    let conv;
    try {
      conv = await post(`shares/${encodeURIComponent(token)}/fork`, {}, { signal });
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      const dead = deadLink(err);
      if (dead) showDead(dead);
      else setMessage(error, `The chat could not be copied: ${err.message}`);
      button.disabled = false;
      button.textContent = 'Continue this conversation';
      return;
    }
    navigate(`/chat/${encodeURIComponent(conv.id)}`);
  });
}
