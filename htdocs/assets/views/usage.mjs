// Usage: what the user's API keys used over the last days (GET /usage):
// tokens per day as a chart the server draws (GET /usage/chart.svg, its
// text alternative from the same numbers), the days, models and keys as
// tables, and the days, models and keys as CSV (GET /usage.csv?by=).

import { API_BASE, get, isAbort } from '../api.mjs';
import { h, replaceChildren, formatNumber, setMessage } from '../dom.mjs';
import { hrefFor } from '../router.mjs';

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
        h('h1', { id: 'usage-title', tabindex: '-1' }, 'API usage'),
        h('p', { class: 'lead' }, `What your API keys used in the last ${days} days.`),
      ),
      status,
      error,
      body,
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
  const total = usage.days.reduce((n, d) => n + d.prompt_tokens + d.completion_tokens, 0);
  const calls = usage.days.reduce((n, d) => n + d.calls, 0);
  if (calls === 0) {
    replaceChildren(
      body,
      h(
        'p',
        { 'data-testid': 'usage-summary' },
        `No calls in the last ${days} days. Make a key under `,
        h('a', { href: hrefFor('/keys') }, 'API keys'),
        ' and use it with any OpenAI client; its calls show here.',
      ),
    );
    return;
  }
  replaceChildren(
    body,
    h('p', { 'data-testid': 'usage-summary' }, `${formatNumber(calls)} calls, ${formatNumber(total)} tokens.`),
    h(
      'figure',
      {},
      h('img', {
        src: new URL(`usage/chart.svg?days=${days}`, API_BASE).href,
        alt: `Tokens per day over the last ${days} days: ${formatNumber(total)} in all.`,
        width: 640,
        height: 200,
        'data-testid': 'usage-chart',
      }),
    ),
    h(
      'p',
      { 'data-testid': 'usage-csv' },
      'Download as CSV: ',
      h('a', { href: new URL(`usage.csv?days=${days}`, API_BASE).href, download: '' }, 'by day'),
      ', ',
      h('a', { href: new URL(`usage.csv?days=${days}&by=model`, API_BASE).href, download: '' }, 'by model'),
      ', ',
      h('a', { href: new URL(`usage.csv?days=${days}&by=key`, API_BASE).href, download: '' }, 'by key'),
      '.',
    ),
    h(
      'div',
      { class: 'usage-tables' },
      table('By key', 'usage-keys', ['Key', 'Calls', 'Tokens', 'Credits'],
      usage.keys.map((k) => [`${k.name} (${k.prefix}…)`, formatNumber(k.calls), formatNumber(k.tokens), formatNumber(k.credits)])),
    table('By model', 'usage-models', ['Model', 'Calls', 'Tokens', 'Credits'],
      usage.models.map((m) => [m.model, formatNumber(m.calls), formatNumber(m.tokens), formatNumber(m.credits)])),
    table('By day', 'usage-days', ['Day', 'Calls', 'Prompt tokens', 'Completion tokens', 'Credits'],
      usage.days.filter((d) => d.calls > 0).map((d) => [d.day, formatNumber(d.calls), formatNumber(d.prompt_tokens), formatNumber(d.completion_tokens), formatNumber(d.credits)])),
    ),
  );
}
