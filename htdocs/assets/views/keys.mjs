// API keys: make a personal key for the OpenAI-compatible API (/chat/v1)
// with a name and optional expiry, models, monthly budget and rate limits;
// the key is shown once, right after it is made; the list shows each key's
// prefix, state, limits and last use, with Revoke (DELETE /keys/{id}).

import { del, get, isAbort, post } from '../api.mjs';
import { h, replaceChildren, formatDate, formatNumber, setMessage } from '../dom.mjs';

const V1_URL = new URL('../../v1', import.meta.url).href;

function optionalInt(value) {
  const text = value.trim();
  return text === '' ? undefined : Number(text);
}

function field(id, label, input, hint) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null);
}

export async function render({ outlet, signal }) {
  let keys = [];
  let next = null;

  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'keys-status' }, 'Loading…');
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'keys-error', hidden: true });
  const list = h('ul', { class: 'share-list', 'data-testid': 'key-list', 'aria-labelledby': 'keys-list-title' });
  const more = h('button', { type: 'button', class: 'button', hidden: true, 'data-testid': 'keys-more' }, 'Load more');
  const name = h('input', { id: 'key-name', name: 'name', required: true, maxlength: 100, autocomplete: 'off' });
  const expires = h('input', { id: 'key-expires', name: 'expires', type: 'date' });
  const models = h('input', { id: 'key-models', name: 'models', autocomplete: 'off', placeholder: 'all models' });
  const budget = h('input', { id: 'key-budget', name: 'budget', type: 'number', min: 0, step: 1 });
  const rpm = h('input', { id: 'key-rpm', name: 'rpm', type: 'number', min: 1, step: 1 });
  const tpm = h('input', { id: 'key-tpm', name: 'tpm', type: 'number', min: 1, step: 1 });
  const keep = h('input', { id: 'key-keep', name: 'keep', type: 'checkbox' });
  const formError = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'key-form-error', hidden: true });
  const made = h('div', { class: 'key-made', 'data-testid': 'key-made', hidden: true });
  const form = h(
    'form',
    { class: 'form', 'data-testid': 'key-form', 'aria-labelledby': 'keys-new-title' },
    h('h2', { id: 'keys-new-title' }, 'New key'),
    field('key-name', 'Name', name),
    field('key-expires', 'Expires (optional)', expires),
    field('key-models', 'Models (optional)', models, 'Model slugs separated by commas; empty for every model.'),
    field('key-budget', 'Monthly budget in credits (optional)', budget),
    field('key-rpm', 'Requests per minute (optional)', rpm),
    field('key-tpm', 'Tokens per minute (optional)', tpm),
    h('div', { class: 'field' }, h('label', { for: 'key-keep' }, keep, ' Keep its calls as chats')),
    formError,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary', 'data-testid': 'key-create' }, 'Make key')),
  );

  replaceChildren(
    outlet,
    h(
      'section',
      { class: 'shares', 'aria-labelledby': 'keys-title' },
      h(
        'header',
        {},
        h('h1', { id: 'keys-title', tabindex: '-1' }, 'API keys'),
        h(
          'p',
          { class: 'lead' },
          'Keys for tools that speak OpenAI’s API. Their calls use your credits, like a chat. Base URL: ',
          h('code', { 'data-testid': 'keys-base-url' }, V1_URL),
        ),
      ),
      made,
      form,
      h('h2', { id: 'keys-list-title' }, 'Your keys'),
      status,
      error,
      list,
      more,
    ),
  );

  function showMade(key) {
    const input = h('input', { id: 'key-secret', readonly: true, value: key.key, 'data-testid': 'key-secret', size: 60 });
    const copy = h('button', { type: 'button', class: 'button small' }, 'Copy');
    copy.addEventListener('click', async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(key.key);
        copy.textContent = 'Copied';
      } catch {
        copy.textContent = 'Select and copy it';
      }
    });
    const done = h('button', { type: 'button', class: 'button small', 'data-testid': 'key-made-done' }, 'Done');
    done.addEventListener('click', () => {
      replaceChildren(made);
      made.hidden = true;
    });
    replaceChildren(
      made,
      h('h2', {}, `Your new key “${key.name}”`),
      h('p', { class: 'notice', 'data-testid': 'key-once' }, 'Copy it now: it is shown this once and stored only as a hash.'),
      h('label', { for: 'key-secret' }, 'Key'),
      input,
      h('div', { class: 'actions' }, copy, done),
      h('p', { class: 'hint' }, 'Try it:'),
      h(
        'pre',
        { 'data-testid': 'key-curl' },
        `curl ${V1_URL}/chat/completions \\\n  -H "Authorization: Bearer ${key.key}" \\\n  -H "Content-Type: application/json" \\\n  -d '{"model":"MODEL","messages":[{"role":"user","content":"Hello"}]}'`,
      ),
    );
    made.hidden = false;
    input.focus();
    input.select();
  }

  function limits(key) {
    const parts = [];
    if (key.monthly_budget !== null) parts.push(`${formatNumber(key.budget_used)} of ${formatNumber(key.monthly_budget)} credits this month`);
    if (key.rpm) parts.push(`${formatNumber(key.rpm)} requests/min`);
    if (key.tpm) parts.push(`${formatNumber(key.tpm)} tokens/min`);
    return parts.length ? parts.join(', ') : 'none';
  }

  function item(key) {
    const revoke = h('button', { type: 'button', class: 'button small danger', 'data-testid': 'key-revoke' }, 'Revoke');
    revoke.hidden = key.status === 'revoked';
    revoke.addEventListener('click', () => revokeKey(key, revoke));
    return h(
      'li',
      { class: 'share-item', 'data-testid': 'key-item', 'data-id': key.id },
      h(
        'article',
        { 'aria-label': key.name },
        h(
          'div',
          { class: 'share-item-head' },
          h('h3', { class: 'share-item-title' }, key.name),
          h('ul', { class: 'badges' }, h('li', { class: `badge is-${key.status}`, 'data-testid': 'key-state' }, key.status)),
        ),
        h(
          'dl',
          { class: 'share-facts' },
          h('dt', {}, 'Key'), h('dd', { 'data-testid': 'key-prefix' }, `${key.prefix}…`),
          h('dt', {}, 'Models'), h('dd', {}, key.models ? key.models.join(', ') : 'all'),
          h('dt', {}, 'Limits'), h('dd', {}, limits(key)),
          h('dt', {}, 'Calls kept as chats'), h('dd', {}, key.keep_conversations ? 'yes' : 'no'),
          h('dt', {}, 'Created'), h('dd', {}, formatDate(key.created_at)),
          h('dt', {}, 'Expires'), h('dd', {}, key.expires_at ? formatDate(key.expires_at) : 'never'),
          h('dt', {}, 'Last used'), h('dd', { 'data-testid': 'key-last-used' }, key.last_used_at ? formatDate(key.last_used_at) : 'never'),
        ),
        h('div', { class: 'actions' }, revoke),
      ),
    );
  }

  function draw() {
    replaceChildren(list, keys.map(item));
    status.textContent = keys.length ? '' : 'You have no keys yet.';
    more.hidden = !next;
  }

  // A page of keys (the first, or the one after `next`), added to the list.
  async function load() {
    const body = await get(next ? `keys?after=${encodeURIComponent(next)}` : 'keys', { signal });
    keys = [...keys, ...(Array.isArray(body?.items) ? body.items : [])];
    next = body?.next ?? null;
  }

  more.addEventListener('click', async () => {
    more.disabled = true;
    setMessage(error, '');
    try {
      await load();
      draw();
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      setMessage(error, `More keys could not be loaded: ${err.message}`);
    } finally {
      more.disabled = false;
    }
  });

  async function revokeKey(key, button) {
    // eslint-disable-next-line no-alert
    if (!window.confirm(`Revoke the key “${key.name}”? Tools using it stop working at once.`)) return;
    setMessage(error, '');
    button.disabled = true;
    try {
      const revoked = await del(`keys/${encodeURIComponent(key.id)}`, { signal });
      keys = keys.map((k) => (k.id === key.id ? { ...k, ...revoked } : k));
      draw();
      status.textContent = `The key “${key.name}” was revoked.`;
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      button.disabled = false;
      setMessage(error, `The key could not be revoked: ${err.message}`);
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setMessage(formError, '');
    const body = { name: name.value.trim() };
    if (expires.value) body.expires_at = new Date(`${expires.value}T23:59:59`).toISOString();
    const slugs = models.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (slugs.length) body.models = slugs;
    if (keep.checked) body.keep_conversations = true;
    for (const [key, input] of [['monthly_budget', budget], ['rpm', rpm], ['tpm', tpm]]) {
      const n = optionalInt(input.value);
      if (n !== undefined) body[key] = n;
    }
    try {
      const key = await post('keys', body, { signal });
      form.reset();
      showMade(key);
      keys = [key, ...keys];
      draw();
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      setMessage(formError, err.message);
    }
  });

  try {
    await load();
  } catch (err) {
    if (isAbort(err) || err?.code === 'unauthenticated') return;
    status.textContent = '';
    setMessage(error, `Your keys could not be loaded: ${err.message}`);
    return;
  }
  draw();
}
