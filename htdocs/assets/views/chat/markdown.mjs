// Markdown for chat messages: marked (GFM) → highlight.js for code blocks →
// DOMPurify → a DocumentFragment.
//
// This is the one place in the UI where HTML becomes DOM, and it only ever
// does so through DOMPurify's RETURN_DOM_FRAGMENT (never innerHTML on a live
// element). On top of the sanitiser:
// - raw HTML written in a message is shown as text, not interpreted: people
//   paste markup into chats to talk about it, and a model's answer must never
//   be able to shape the page;
// - links open in a new tab with rel="noopener noreferrer";
// - images from other sites (which the page's CSP blocks anyway) become links;
// - Markdown headings are moved down two levels so a message never competes
//   with the page's own <h1>/<h2>;
// - each code block gets a toolbar with its language and a Copy button.
//
// The libraries live in htdocs/vendor (copied from node_modules by
// scripts/vendor; versions in htdocs/vendor/README.md).

import { Marked } from '../../../vendor/marked.esm.js';
import DOMPurify from '../../../vendor/purify.es.mjs';
import hljs from '../../../vendor/highlight/core.min.js';
import bash from '../../../vendor/highlight/languages/bash.min.js';
import c from '../../../vendor/highlight/languages/c.min.js';
import cpp from '../../../vendor/highlight/languages/cpp.min.js';
import csharp from '../../../vendor/highlight/languages/csharp.min.js';
import css from '../../../vendor/highlight/languages/css.min.js';
import diff from '../../../vendor/highlight/languages/diff.min.js';
import dockerfile from '../../../vendor/highlight/languages/dockerfile.min.js';
import go from '../../../vendor/highlight/languages/go.min.js';
import ini from '../../../vendor/highlight/languages/ini.min.js';
import java from '../../../vendor/highlight/languages/java.min.js';
import javascript from '../../../vendor/highlight/languages/javascript.min.js';
import json from '../../../vendor/highlight/languages/json.min.js';
import kotlin from '../../../vendor/highlight/languages/kotlin.min.js';
import makefile from '../../../vendor/highlight/languages/makefile.min.js';
import markdown from '../../../vendor/highlight/languages/markdown.min.js';
import php from '../../../vendor/highlight/languages/php.min.js';
import plaintext from '../../../vendor/highlight/languages/plaintext.min.js';
import python from '../../../vendor/highlight/languages/python.min.js';
import ruby from '../../../vendor/highlight/languages/ruby.min.js';
import rust from '../../../vendor/highlight/languages/rust.min.js';
import scss from '../../../vendor/highlight/languages/scss.min.js';
import shell from '../../../vendor/highlight/languages/shell.min.js';
import sql from '../../../vendor/highlight/languages/sql.min.js';
import swift from '../../../vendor/highlight/languages/swift.min.js';
import typescript from '../../../vendor/highlight/languages/typescript.min.js';
import xml from '../../../vendor/highlight/languages/xml.min.js';
import yaml from '../../../vendor/highlight/languages/yaml.min.js';
import { h } from '../../dom.mjs';

const LANGUAGES = {
  bash, c, cpp, csharp, css, diff, dockerfile, go, ini, java, javascript, json, kotlin, makefile,
  markdown, php, plaintext, python, ruby, rust, scss, shell, sql, swift, typescript, xml, yaml,
};
for (const [name, grammar] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, grammar);

const COPY_RESET_MS = 1500;

function escapeHtml(text) {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const md = new Marked({
  gfm: true,
  breaks: true, // a line break typed in a chat is meant as one
  renderer: {
    // Raw HTML in the Markdown source is shown as the text it is.
    html({ text, block }) {
      const escaped = escapeHtml(text);
      return block ? `<p>${escaped.trimEnd().replace(/\n/g, '<br>\n')}</p>\n` : escaped;
    },
    code({ text, lang }) {
      const language = (lang || '').trim().split(/\s+/)[0].toLowerCase();
      const known = language && hljs.getLanguage(language) ? language : '';
      let body;
      try {
        body = known ? hljs.highlight(text, { language: known, ignoreIllegals: true }).value : escapeHtml(text);
      } catch {
        body = escapeHtml(text);
      }
      const label = escapeHtml(language);
      return `<pre data-lang="${label}"><code class="hljs${known ? ` language-${known}` : ''}">${body}</code></pre>\n`;
    },
  },
  walkTokens(token) {
    if (token.type === 'heading') token.depth = Math.min(6, token.depth + 2);
  },
});

// A private DOMPurify instance, so its hook affects nobody else.
const purify = DOMPurify(window);
purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

const PURIFY_CONFIG = {
  RETURN_DOM_FRAGMENT: true,
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'button', 'textarea', 'select', 'option', 'iframe', 'object', 'embed'],
  FORBID_ATTR: ['style', 'id', 'name'], // inline styles break the CSP; ids would clash with the page's
};

/** True when the page's CSP lets this image load (same origin, or data:). */
function imageAllowed(src) {
  if (/^data:image\//i.test(src)) return true;
  try {
    const u = new URL(src, location.href);
    return u.origin === location.origin && /^https?:$/.test(u.protocol);
  } catch {
    return false;
  }
}

async function copyText(text) {
  if (navigator.clipboard?.writeText) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Old browsers / insecure contexts: select a hidden textarea and copy.
  const area = h('textarea', { class: 'visually-hidden', readonly: true, 'aria-hidden': 'true' });
  area.value = text;
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('copy refused');
}

/** The Copy button of a code block. */
function copyButton(code) {
  let timer = 0;
  const button = h(
    'button',
    { type: 'button', class: 'code-copy', 'data-testid': 'copy-code', 'aria-label': 'Copy code' },
    'Copy',
  );
  button.addEventListener('click', async () => {
    clearTimeout(timer);
    try {
      await copyText(code.textContent);
      button.textContent = 'Copied';
    } catch {
      button.textContent = 'Copy failed';
    }
    timer = setTimeout(() => {
      button.textContent = 'Copy';
    }, COPY_RESET_MS);
  });
  return button;
}

function decorate(fragment) {
  for (const pre of fragment.querySelectorAll('pre')) {
    const code = pre.querySelector('code') ?? pre;
    const lang = pre.getAttribute('data-lang') || '';
    const bar = h('div', { class: 'code-bar' }, h('span', { class: 'code-lang' }, lang || 'code'), copyButton(code));
    const box = h('div', { class: 'code-block', 'data-testid': 'code-block' });
    pre.replaceWith(box);
    box.append(bar, pre);
  }
  for (const img of fragment.querySelectorAll('img')) {
    const src = img.getAttribute('src') || '';
    if (imageAllowed(src)) {
      img.setAttribute('loading', 'lazy');
      continue;
    }
    const alt = img.getAttribute('alt') || src;
    img.replaceWith(
      /^https?:/i.test(src)
        ? h('a', { href: src, target: '_blank', rel: 'noopener noreferrer' }, `[image: ${alt}]`)
        : document.createTextNode(`[image: ${alt}]`),
    );
  }
  for (const table of fragment.querySelectorAll('table')) {
    // Wide tables scroll on their own rather than widening the thread.
    const wrap = h('div', { class: 'table-wrap' });
    table.replaceWith(wrap);
    wrap.append(table);
  }
  return fragment;
}

/** Render Markdown text to a sanitised DocumentFragment, ready to append. */
export function renderMarkdown(text) {
  let html;
  try {
    html = md.parse(String(text ?? ''), { async: false });
  } catch {
    const fragment = document.createDocumentFragment();
    fragment.append(h('p', {}, String(text ?? '')));
    return fragment;
  }
  return decorate(purify.sanitize(html, PURIFY_CONFIG));
}

/**
 * Sanitised HTML (an imported Gemini answer, content_type text/html) to a
 * DocumentFragment, through the same sanitiser and decoration as Markdown.
 */
export function renderHtml(html) {
  return decorate(purify.sanitize(String(html ?? ''), PURIFY_CONFIG));
}

let themeLoaded = false;

/** Add the highlight.js themes (light and dark) to the page once. */
export function loadCodeTheme() {
  if (themeLoaded) return;
  themeLoaded = true;
  const href = (file) => new URL(`../../../vendor/highlight/${file}`, import.meta.url).href;
  document.head.append(
    h('link', {
      rel: 'stylesheet',
      href: href('github.min.css'),
      media: 'not all and (prefers-color-scheme: dark)',
    }),
    h('link', { rel: 'stylesheet', href: href('github-dark.min.css'), media: '(prefers-color-scheme: dark)' }),
  );
}
