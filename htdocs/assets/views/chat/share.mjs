// The Share dialog of a conversation (its owner only): create a link, see
// it (URL with Copy, views, expiry), change who can open it and when it
// expires, what it shows (the chat or one of its versions) and whether its
// page shows the chat's notes, move its snapshot to the latest message, or
// revoke it.
//
// API: GET|PUT|DELETE /conversations/{id}/share. GET answers 404 while the
// conversation has no live link. A link shows the conversation as it was
// when shared (the snapshot); "Update snapshot" moves it to the latest
// message. Or it shows a version exactly as it was (version_id, one of GET
// /conversations/{id}/versions; null: the chat). show_annotations: the page
// shows the notes on the messages. Sharing again after a revoke makes a new
// link.
//
// A native <dialog> opened with showModal(): focus stays inside, Escape
// closes it, focus goes back to the Share button.

import { api, del, get, getAll, isAbort } from '../../api.mjs';
import { h, formatDate, setMessage } from '../../dom.mjs';
import {
  EXPIRY_CHOICES,
  expiryText,
  linkField,
  messagesText,
  notesText,
  shareFact,
  shownText,
  versionLabel,
  viewsText,
} from '../../share-link.mjs';
import { conversationTitle } from './sidebar.mjs';

const DEFAULT_EXPIRY = 7 * 86400; // seconds, one of EXPIRY_CHOICES: what a new link gets unless changed

function radio(id, value, label, hint) {
  return h(
    'div',
    { class: 'choice' },
    h('input', { type: 'radio', id, name: 'share-audience', value, 'aria-describedby': `${id}-hint` }),
    h('label', { for: id }, label),
    h('p', { id: `${id}-hint`, class: 'hint' }, hint),
  );
}

/**
 * @param {object} options
 * @param {AbortSignal} options.signal  the view's signal
 * Returns { el, open(conv) }.
 */
export function createShareDialog({ signal }) {
  let conv = null;
  let share = null; // the live link, or null
  let versions = null; // the conversation's versions, newest first; null when they could not be loaded
  let controller = null; // requests of the current opening (aborted on close and when the view goes)
  signal.addEventListener('abort', () => controller?.abort(), { once: true });

  const subtitle = h('p', { class: 'dialog-subtitle muted', 'data-testid': 'share-chat-title' });
  const loading = h('p', { class: 'muted', role: 'status' });

  const link = linkField({ id: 'share-url', label: 'Link', showLabel: true });
  const facts = h('dl', { class: 'share-facts' });
  const current = h('section', { class: 'share-current', 'aria-label': 'Current link', hidden: true }, link.el, facts);

  const audience = h(
    'fieldset',
    { class: 'choices' },
    h('legend', {}, 'Who can open the link'),
    radio('share-public', 'public', 'Anyone with the link', 'No sign-in needed.'),
    radio('share-signed-in', 'signed-in', 'Signed-in users only', 'People must sign in to this site first.'),
  );
  const expiry = h('select', { id: 'share-expiry', name: 'expiry' });
  const expiryField = h('div', { class: 'field' }, h('label', { for: 'share-expiry' }, 'Expires after'), expiry);
  const snapshot = h('input', {
    type: 'checkbox',
    id: 'share-snapshot',
    name: 'update_snapshot',
    'aria-describedby': 'share-snapshot-hint',
  });
  const snapshotHint = h('p', { id: 'share-snapshot-hint', class: 'hint' });
  const shows = h('select', {
    id: 'share-shows',
    name: 'version_id',
    'aria-describedby': 'share-shows-hint',
    'data-testid': 'share-shows',
  });
  const showsHint = h('p', { id: 'share-shows-hint', class: 'hint' });
  const showsField = h(
    'div',
    { class: 'field' },
    h('label', { for: 'share-shows' }, 'What the link shows'),
    shows,
    showsHint,
  );
  const notes = h('input', {
    type: 'checkbox',
    id: 'share-notes',
    name: 'show_annotations',
    'aria-describedby': 'share-notes-hint',
    'data-testid': 'share-show-notes',
  });
  const notesField = h(
    'div',
    { class: 'choice' },
    notes,
    h('label', { for: 'share-notes' }, 'Show notes on the shared page'),
    h(
      'p',
      { id: 'share-notes-hint', class: 'hint' },
      'The notes on the answers, with the text they quote and the names of their authors.',
    ),
  );
  const snapshotField = h(
    'div',
    { class: 'choice', hidden: true },
    snapshot,
    h('label', { for: 'share-snapshot' }, 'Update snapshot to the latest message'),
    snapshotHint,
  );

  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'share-error', hidden: true });
  const done = h('p', { class: 'form-success', role: 'status', 'data-testid': 'share-status' });
  const save = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'share-save' }, 'Create link');
  const revoke = h(
    'button',
    { type: 'button', class: 'button danger', 'data-testid': 'share-revoke', hidden: true },
    'Revoke link',
  );
  const close = h('button', { type: 'button', class: 'button small', 'data-testid': 'share-close' }, 'Close');
  const form = h(
    'form',
    { class: 'form share-form', novalidate: true, 'aria-label': 'Link settings', hidden: true },
    audience,
    expiryField,
    showsField,
    snapshotField,
    notesField,
    error,
    h('div', { class: 'actions' }, save, revoke, done),
  );

  const el = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': 'share-dialog-title', 'data-testid': 'share-dialog' },
    h(
      'header',
      { class: 'dialog-head' },
      h('div', {}, h('h2', { id: 'share-dialog-title' }, 'Share this chat'), subtitle),
      close,
    ),
    loading,
    current,
    form,
  );

  function fillExpiry() {
    const options = EXPIRY_CHOICES.map((c) =>
      h('option', { value: c.seconds === null ? 'never' : String(c.seconds) }, c.label),
    );
    if (share) {
      const when = share.expires_at ? `${share.expired ? 'expired' : 'expires'} ${formatDate(share.expires_at)}` : 'never expires';
      options.unshift(h('option', { value: 'keep' }, `Keep as it is (${when})`));
    }
    expiry.replaceChildren(...options);
    expiry.value = share ? 'keep' : String(DEFAULT_EXPIRY);
  }

  /** "The chat as it is now" and each version; the one the link shows is chosen. */
  function fillShows() {
    const known = versions ?? [];
    const options = [h('option', { value: '' }, 'The chat as it is now')];
    for (const v of known) options.push(h('option', { value: v.id }, versionLabel(v)));
    // The version shown stays on offer when the list could not be loaded.
    if (share?.version_id && !known.some((v) => v.id === share.version_id)) {
      options.push(h('option', { value: share.version_id }, versionLabel(share.version)));
    }
    shows.replaceChildren(...options);
    shows.value = share?.version_id ?? '';
    if (versions === null) {
      showsHint.textContent = 'The versions of this chat could not be loaded.';
    } else if (versions.length === 0) {
      showsHint.textContent = 'Save a version of the chat (under Versions, beside it) to share it exactly as it is then.';
    } else {
      showsHint.textContent = 'A version is shown exactly as it was when it was saved.';
    }
  }

  /** "Update snapshot" is about the chat: not offered while a version is chosen. */
  function showSnapshotField() {
    snapshotField.hidden = share === null || shows.value !== '';
  }

  /** Show the current state: the link (if any) and the form set to it. */
  function draw() {
    current.hidden = share === null;
    if (share) {
      link.setUrl(share.url);
      facts.replaceChildren(
        shareFact('Views', viewsText(share), 'share-views'),
        shareFact('Expires', expiryText(share), 'share-expires'),
        shareFact('Shows', shownText(share), 'share-messages'),
        share.version_id ? shareFact('Version', versionLabel(share.version), 'share-version') : null,
        shareFact('Notes', notesText(share), 'share-notes'),
      );
      snapshotHint.textContent = `The link shows the chat as it was when it was shared (${messagesText(share.message_count)}).`;
    }
    form.querySelector(`#${share && !share.is_public ? 'share-signed-in' : 'share-public'}`).checked = true;
    fillExpiry();
    fillShows();
    notes.checked = Boolean(share?.show_annotations);
    snapshot.checked = false;
    showSnapshotField();
    revoke.hidden = share === null;
    save.textContent = share ? 'Save' : 'Create link';
    form.hidden = false;
  }

  function setBusy(busy) {
    for (const control of form.elements) control.disabled = busy;
    form.toggleAttribute('aria-busy', busy);
  }

  /** The conversation's versions, or null when they could not be loaded (the dialog works without them). */
  async function loadVersions() {
    try {
      return await getAll(`conversations/${encodeURIComponent(conv.id)}/versions?limit=100`, {
        signal: controller.signal,
      });
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') throw err;
      return null;
    }
  }

  async function load() {
    loading.textContent = 'Loading…';
    loading.hidden = false;
    current.hidden = true;
    form.hidden = true;
    const pending = loadVersions();
    pending.catch(() => {}); // awaited below; not unhandled when the link fails first
    try {
      share = await get(`conversations/${encodeURIComponent(conv.id)}/share`, { signal: controller.signal });
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      if (err?.status !== 404) {
        loading.textContent = `The link could not be loaded: ${err.message}`;
        return;
      }
      share = null;
    }
    try {
      versions = await pending;
    } catch {
      return; // aborted, or signed out
    }
    loading.hidden = true;
    draw();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (save.disabled) return;
    setMessage(error, '');
    done.textContent = '';
    const body = { is_public: form.querySelector('#share-public').checked };
    if (expiry.value === 'never') body.expires_in = null;
    else if (expiry.value !== 'keep') body.expires_in = Number(expiry.value);
    body.version_id = shows.value || null;
    body.show_annotations = notes.checked;
    if (share && snapshot.checked && !body.version_id) body.update_snapshot = true;
    const created = share === null;
    setBusy(true);
    try {
      // No retry on 503: besides a database outage it also means
      // "sharing_unavailable", which waiting does not cure.
      share = await api(`conversations/${encodeURIComponent(conv.id)}/share`, {
        method: 'PUT',
        body,
        signal: controller.signal,
        retry: false,
      });
      draw();
      done.textContent = created ? 'Link created. Copy it and send it to the people you want to share with.' : 'Changes saved.';
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      setMessage(error, err.message || 'The link could not be saved.');
    } finally {
      setBusy(false);
    }
  });

  revoke.addEventListener('click', async () => {
    if (!share || revoke.disabled) return;
    // eslint-disable-next-line no-alert
    if (!window.confirm('Revoke this link? Anyone who has it will no longer be able to open it.')) return;
    setMessage(error, '');
    done.textContent = '';
    setBusy(true);
    try {
      await del(`conversations/${encodeURIComponent(conv.id)}/share`, { signal: controller.signal });
      share = null;
      draw();
      done.textContent = 'The link was revoked. Sharing again makes a new link.';
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      setMessage(error, err.message || 'The link could not be revoked.');
    } finally {
      setBusy(false);
    }
  });

  shows.addEventListener('change', showSnapshotField);
  close.addEventListener('click', () => el.close());
  el.addEventListener('close', () => controller?.abort());

  return {
    el,
    /** Open the dialog for a conversation the user owns. */
    open(c) {
      conv = c;
      share = null;
      versions = null;
      controller?.abort();
      controller = new AbortController();
      subtitle.textContent = conversationTitle(conv);
      setMessage(error, '');
      done.textContent = '';
      setBusy(false);
      el.showModal();
      load();
    },
  };
}
