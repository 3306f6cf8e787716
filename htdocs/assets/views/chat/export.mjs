// A chat's exports (Markdown and the product's JSON, downloaded from
// GET /conversations/{id}/export) and the badge of an imported chat.

import { API_BASE } from '../../api.mjs';
import { h } from '../../dom.mjs';

const SOURCES = { chatgpt: 'ChatGPT', claude: 'Claude', gemini: 'Gemini', mistral: 'Mistral' };

/** "ChatGPT" for a chat imported from ChatGPT, else null. */
export function sourceName(conv) {
  return SOURCES[conv?.source] ?? null;
}

/** The badge of an imported chat in a list, or null. */
export function sourceBadge(conv) {
  const name = sourceName(conv);
  return name ? h('span', { class: 'badge source-badge', 'data-testid': 'source-badge', title: `Imported from ${name}` }, name) : null;
}

/** Export links for the chat head: { el, set(conv) }. */
export function createExportLinks() {
  const md = h('a', { class: 'button small', 'data-testid': 'export-markdown', download: '' }, 'Markdown');
  const json = h('a', { class: 'button small', 'data-testid': 'export-json', download: '' }, 'JSON');
  const el = h('span', { class: 'export-links', role: 'group', 'aria-label': 'Export this chat', hidden: true }, 'Export: ', md, ' ', json);
  return {
    el,
    set(conv) {
      el.hidden = !conv;
      if (!conv) return;
      const base = `conversations/${encodeURIComponent(conv.id)}/export?format=`;
      md.href = new URL(`${base}markdown`, API_BASE).href;
      json.href = new URL(`${base}json`, API_BASE).href;
    },
  };
}
