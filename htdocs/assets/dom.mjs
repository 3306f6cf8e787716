// Building DOM without markup strings.
//
// h() creates elements whose text always goes in as text nodes, so a value
// from the server can never become markup. There is deliberately no way to
// pass HTML through here; the only rich content the product shows (rendered
// Markdown) is rendered and escaped by the server.

/**
 * Create an element.
 *
 *   h('p', { class: 'note', 'data-testid': 'x' }, 'Hello, ', user.name)
 *   h('button', { type: 'button', onclick: () => … }, 'Save')
 *
 * Props: `class`, any attribute (strings; `true` sets an empty attribute,
 * `false`/null/undefined leaves it out), `on<event>` functions as listeners.
 * Children: strings/numbers (as text), nodes, arrays, null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

/** Append children (see h()) to an element. */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace all children of an element. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Set (or clear, with an empty/null text) the text of a message element and show/hide it. */
export function setMessage(el, text) {
  el.textContent = text ?? '';
  el.hidden = !text;
}

const numberFormat = new Intl.NumberFormat();

/** A count formatted for the reader's locale (10000 → "10,000"). */
export function formatNumber(n) {
  return typeof n === 'number' && Number.isFinite(n) ? numberFormat.format(n) : '—';
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** An ISO timestamp formatted for the reader's locale, or "—". */
export function formatDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : dateFormat.format(d);
}

/** Save a Blob (a ZIP the API answered, say) as a download named name. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
