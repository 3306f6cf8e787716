// Usage: what used the user's credits over the last days (GET /usage): chat
// answers, summaries and API calls, one balance. Tokens per day as a chart
// the server draws (GET /usage/chart.svg, its text alternative from the same
// numbers), the kinds, days, models and keys as tables, CSV files
// (GET /usage.csv?by=), and the latest changes of the balance, the credit
// ledger, a page at a time (GET /me/credits).

import { API_BASE, get, isAbort } from '../api.mjs';
import { h, replaceChildren, formatNumber, formatDate, setMessage } from '../dom.mjs';
import { hrefFor } from '../router.mjs';

const KIND_LABELS = { chat: 'Chat answers', summary: 'Summaries', api: 'API calls' };

const REASON_LABELS = {
  initial: 'Starting balance',
  grant: 'Granted',
  reserve: 'Reserved',
  settle: 'Settled (unused part returned)',
  release: 'Returned (nothing used)',
};

/** A table whose first column names the row and the others are numbers. */
function table(caption, testid, head, rows) {
  const num = (i) => (i > 0 ? { class: 'num' } : {});
  return h(
    'table',
    { class: 'data-table', 'data-testid': testid },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c, i) => h('th', { scope: 'col', ...num(i) }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => h('td', num(i), c))))),
  );
}

/** What a ledger row was for, in words. */
function ledgerWhat(row) {
  const label = REASON_LABELS[row.reason] ?? row.reason;
  if (row.conversation_id) {
    return [label, ' for ', h('a', { href: hrefFor(`/chat/${row.conversation_id}`) }, 'a chat answer')];
  }
  if (row.note) return `${label}: ${row.note}`;
  return label;
}

/** The ledger's table, a page at a time: the first page, then "More". */
function ledger(signal) {
  const rows = h('tbody', { 'data-testid': 'ledger-rows' });
  const status = h('p', { class: 'muted', role: 'status' });
  const more = h('button', { type: 'button', class: 'button', 'data-testid': 'ledger-more', hidden: true }, 'More');
  let next = null;

  async function load() {
    more.disabled = true;
    try {
      const page = await get(`me/credits?limit=20${next ? `&after=${encodeURIComponent(next)}` : ''}`, { signal });
      for (const row of page.items) {
        const delta = row.delta > 0 ? `+${formatNumber(row.delta)}` : formatNumber(row.delta);
        rows.append(h(
          'tr',
          { 'data-testid': 'ledger-row' },
          h('td', {}, formatDate(row.created_at)),
          h('td', {}, ledgerWhat(row)),
          h('td', { class: 'num' }, delta),
          h('td', { class: 'num' }, formatNumber(row.balance_after)),
        ));
      }
      next = page.next;
      more.hidden = !next;
      status.textContent = rows.children.length === 0 ? 'No changes of your balance yet.' : '';
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      status.textContent = `Your credit history could not be loaded: ${err.message}`;
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', load);
  load();
  return h(
    'section',
    { 'aria-labelledby': 'ledger-title', 'data-testid': 'ledger' },
    h('h2', { id: 'ledger-title' }, 'Latest changes of your balance'),
    h(
      'table',
      { class: 'data-table' },
      h('thead', {}, h('tr', {}, ['When', 'What', 'Change', 'Balance after'].map((c, i) => h('th', { scope: 'col', ...(i > 1 ? { class: 'num' } : {}) }, c)))),
      rows,
    ),
    status,
    more,
  );
}

export async function render({ outlet, signal }) {
  const days = 30;
  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'usage-status' }, 'Loading…');
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const body = h('div', { 'data-testid': 'usage-body' });

  replaceChildren(
    outlet,
    h(
      'section',
      { class: 'shares', 'aria-labelledby': 'usage-title' },
      h(
        'header',
        {},
        h('h1', { id: 'usage-title', tabindex: '-1' }, 'Usage'),
        h('p', { class: 'lead' }, `What used your credits in the last ${days} days: chat answers, summaries and calls with your API keys.`),
      ),
      status,
      error,
      body,
      ledger(signal),
    ),
  );

  let usage;
  try {
    usage = await get(`usage?days=${days}`, { signal });
  } catch (err) {
    if (isAbort(err) || err?.code === 'unauthenticated') return;
    status.textContent = '';
    setMessage(error, `Your usage could not be loaded: ${err.message}`);
    return;
  }
  status.textContent = '';
  const { calls, tokens, credits } = usage.totals;
  if (calls === 0) {
    replaceChildren(
      body,
      h(
        'p',
        { 'data-testid': 'usage-summary' },
        `Nothing used credits in the last ${days} days. Chat answers and summaries show here, and so do calls with a key you make under `,
        h('a', { href: hrefFor('/keys') }, 'API keys'),
        '.',
      ),
    );
    return;
  }
  const csv = (by, label) => h('a', { href: new URL(`usage.csv?days=${days}${by ? `&by=${by}` : ''}`, API_BASE).href, download: '' }, label);
  replaceChildren(
    body,
    h(
      'p',
      { 'data-testid': 'usage-summary' },
      `${formatNumber(calls)} ${calls === 1 ? 'answer or call' : 'answers and calls'}, ${formatNumber(tokens)} tokens, ${formatNumber(credits)} credits.`,
    ),
    h(
      'figure',
      {},
      h('img', {
        src: new URL(`usage/chart.svg?days=${days}`, API_BASE).href,
        alt: `Tokens per day over the last ${days} days: ${formatNumber(tokens)} in all.`,
        width: 640,
        height: 200,
        'data-testid': 'usage-chart',
      }),
    ),
    h(
      'p',
      { 'data-testid': 'usage-csv' },
      'Download as CSV: ',
      csv('', 'by day'), ', ', csv('kind', 'by kind'), ', ', csv('model', 'by model'), ', ', csv('key', 'by key'),
      '.',
    ),
    h(
      'div',
      { class: 'usage-tables' },
      table('By kind', 'usage-kinds', ['Kind', 'Count', 'Tokens', 'Credits'],
        (usage.kinds ?? []).map((k) => [KIND_LABELS[k.kind] ?? k.kind, formatNumber(k.calls), formatNumber(k.tokens), formatNumber(k.credits)])),
      table('By API key', 'usage-keys', ['Key', 'Calls', 'Tokens', 'Credits'],
        usage.keys.map((k) => [`${k.name} (${k.prefix}…)`, formatNumber(k.calls), formatNumber(k.tokens), formatNumber(k.credits)])),
      table('By model', 'usage-models', ['Model', 'Count', 'Tokens', 'Credits'],
        usage.models.map((m) => [m.model, formatNumber(m.calls), formatNumber(m.tokens), formatNumber(m.credits)])),
      table('By day', 'usage-days', ['Day', 'Count', 'Tokens', 'Credits'],
        usage.days.filter((d) => d.calls > 0).map((d) => [d.day, formatNumber(d.calls), formatNumber(d.tokens), formatNumber(d.credits)])),
    ),
  );
}
