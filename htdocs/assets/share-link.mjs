// Share links: the words and the link field used by both the Share dialog
// (views/chat/share.mjs) and Shared links (views/shares.mjs).
//
// A share object is the API's (PUT/GET /conversations/{id}/share, GET
// /shares): is_public, expires_at (null = never), expired, view_count,
// message_count (of the snapshot), show_annotations, version_id and version
// (the version shown: {id, comment, reason, created_at, message_count}, or
// null when the link shows the chat), url, …

import { h, formatDate, formatNumber, setMessage } from './dom.mjs';

const COPIED_RESET_MS = 1500;

/** What the Share dialog offers for "Expires after" (seconds; null = never). */
export const EXPIRY_CHOICES = [
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 86400 },
  { label: '7 days', seconds: 7 * 86400 },
  { label: '30 days', seconds: 30 * 86400 },
  { label: 'Never', seconds: null },
];

/** "Anyone with the link" or "Signed-in users only". */
export function audienceText(share) {
  return share?.is_public ? 'Anyone with the link' : 'Signed-in users only';
}

/** One fact of a link in a <dl class="share-facts">: Views, Expires, … */
export function shareFact(label, value, testid) {
  return h('div', {}, h('dt', {}, label), h('dd', { 'data-testid': testid }, value));
}

/** "Expired", the expiry date, or "Never". */
export function expiryText(share) {
  if (share?.expired) return 'Expired';
  return share?.expires_at ? formatDate(share.expires_at) : 'Never';
}

/** "1 view", "12 views". */
export function viewsText(share) {
  const n = Number(share?.view_count) || 0;
  return `${formatNumber(n)} ${n === 1 ? 'view' : 'views'}`;
}

/** What an automatic version without a comment was taken before. */
const VERSION_REASONS = {
  before_branch_delete: 'Before a branch was deleted',
  before_import: 'Before an import added messages',
};

/** A version for people (one of GET …/versions, or a share's version): its comment, or its time. */
export function versionLabel(version) {
  const name = version?.comment || VERSION_REASONS[version?.reason];
  const when = formatDate(version?.created_at);
  return name ? `${name} (${when})` : `Version of ${when}`;
}

/** "2 messages": what the link shows, its version's messages when it shows one. */
export function shownText(share) {
  return messagesText(share?.version ? share.version.message_count : share?.message_count);
}

/** Whether the page shows the chat's notes: "Shown" or "Not shown". */
export function notesText(share) {
  return share?.show_annotations ? 'Shown' : 'Not shown';
}

/** "1 message", "7 messages". */
export function messagesText(n) {
  const count = Number(n) || 0;
  return `${formatNumber(count)} ${count === 1 ? 'message' : 'messages'}`;
}

/**
 * A read-only field with a share URL and a Copy button. Copy writes to the
 * clipboard; where the browser refuses (no permission, insecure context) the
 * URL is selected instead and the user is told to copy it themselves.
 *
 * @param {object} options
 * @param {string} options.id     the input's id
 * @param {string} options.label  its accessible name
 * @param {boolean} [options.showLabel=false] show the label above the field
 * Returns { el, setUrl(url) }.
 */
export function linkField({ id, label, showLabel = false }) {
  let timer = 0;
  const input = h('input', {
    id,
    type: 'text',
    class: 'share-link-input',
    readonly: true,
    spellcheck: 'false',
    'data-testid': 'share-url',
    'aria-describedby': `${id}-status`,
  });
  const status = h('p', { id: `${id}-status`, class: 'hint', role: 'status', hidden: true });
  const copy = h(
    'button',
    { type: 'button', class: 'button small', 'data-testid': 'copy-link', 'aria-label': `Copy ${label.toLowerCase()}` },
    'Copy',
  );

  input.addEventListener('focus', () => input.select());
  copy.addEventListener('click', async () => {
    clearTimeout(timer);
    try {
      await navigator.clipboard.writeText(input.value);
      copy.textContent = 'Copied';
      setMessage(status, 'Link copied to the clipboard.');
      timer = setTimeout(() => {
        copy.textContent = 'Copy';
        setMessage(status, '');
      }, COPIED_RESET_MS);
    } catch {
      input.focus();
      input.select();
      setMessage(status, 'The link is selected: press Ctrl+C (⌘C on a Mac) to copy it.');
    }
  });

  const el = h(
    'div',
    { class: 'share-link' },
    h('label', { for: id, class: showLabel ? null : 'visually-hidden' }, label),
    h('div', { class: 'share-link-row' }, input, copy),
    status,
  );
  return {
    el,
    setUrl(url) {
      clearTimeout(timer);
      input.value = url ?? '';
      copy.textContent = 'Copy';
      setMessage(status, '');
    },
  };
}
