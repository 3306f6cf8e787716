// A chat with no model that can answer it — an imported chat whose model is
// not in the catalog, or a chat whose model was since removed — is continued
// with a model its owner picks here (PUT /conversations/{id}/models); the
// earlier answers keep their model.

import { api, getAll, isAbort } from '../../api.mjs';
import { h, replaceChildren, setMessage } from '../../dom.mjs';


/**
 * @param {object} options
 * @param {AbortSignal} options.signal  the view's signal
 * @param {(conv: object) => void} options.onChosen  the conversation as it is now
 */
export function createModelChoice({ signal, onChosen }) {
  const reason = h('p', { 'data-testid': 'continue-reason' });
  const select = h('select', { id: 'chat-continue-model', 'data-testid': 'continue-model' });
  const use = h('button', { type: 'submit', class: 'button primary small', 'data-testid': 'continue-use' }, 'Continue with this model');
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const el = h(
    'form',
    { class: 'chat-continue', 'aria-label': 'Pick a model to continue', 'data-testid': 'continue-chat', hidden: true },
    reason,
    h('div', { class: 'chat-continue-row' }, h('label', { for: 'chat-continue-model' }, 'Model'), select, use),
    error,
  );
  let conv = null;
  let catalog = null; // the models that can answer now (GET /tools)

  async function available() {
    if (!catalog) {
      catalog = (await getAll('tools?limit=100&sort=popularity', { signal })).filter((t) => t.available !== false);
    }
    return catalog;
  }

  /** Shows the choice when `c` is the owner's and none of its models can answer. */
  async function check(c) {
    conv = c;
    el.hidden = true;
    if (!c?.is_owner) return;
    let tools;
    try {
      tools = await available();
    } catch (err) {
      if (!isAbort(err)) console.warn('the models could not be listed', err);
      return;
    }
    const slugs = new Set(tools.map((t) => t.slug));
    const mine = (c.tools ?? []).filter((t) => t.is_active !== false);
    if (conv !== c || mine.some((t) => slugs.has(t.slug))) return;
    reason.textContent = mine.length
      ? `${mine.map((t) => t.display_name || t.slug).join(', ')} cannot answer now. Pick a model to continue this chat.`
      : 'The model of this chat is not in the catalog. Pick a model to continue it.';
    replaceChildren(select, tools.map((t) => h('option', { value: t.slug }, t.display_name || t.slug)));
    use.disabled = tools.length === 0;
    setMessage(error, tools.length ? '' : 'No models are available yet.');
    el.hidden = false;
  }

  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!conv || use.disabled) return;
    use.disabled = true;
    setMessage(error, '');
    try {
      const updated = await api(`conversations/${encodeURIComponent(conv.id)}/models`, {
        method: 'PUT',
        body: { tools: [select.value] },
        signal,
      });
      el.hidden = true;
      onChosen(updated);
    } catch (err) {
      if (!isAbort(err)) setMessage(error, err.message);
    } finally {
      use.disabled = false;
    }
  });

  return { el, check };
}
