// Prompts and templates in the chat (views/chat.mjs hooks them in):
//
// - The composer's prompt list: the Prompts button, or "/" at the start of a
//   line followed by a few letters of a title. The prompts for the chat's
//   models come first (GET /prompts?conversation_id=…; in a new chat, the
//   models picked for it: GET /prompts?tools=a,b); ↑/↓ move, Enter or Tab
//   or a click inserts the prompt's text, Escape closes.
// - "Save as prompt" under your own messages and under the answers: a
//   title, the text and the chat's models (POST /prompts); Edit and Delete
//   in the list (PATCH, DELETE /prompts/{id}).
// - The template form (the Templates button, or #/chat?template=<id>): a
//   field per variable, the filled prompt shown as you type (POST
//   /templates/{id}/preview, which counts nothing), then Send (POST
//   /templates/{id}/use into the chat, streamed, with the template's system
//   prompt; a new chat starts with its preferred model) or "Put in composer"
//   (a use that fills the composer for editing).
//
// Everything from the server goes in as text (h()).

import { del, get, patch, post, isAbort } from '../../api.mjs';
import { h, replaceChildren, setMessage } from '../../dom.mjs';
import { hrefFor } from '../../router.mjs';

const PREVIEW_DELAY_MS = 250;
const TITLE_CHARS = 60;

function str(value) {
  return typeof value === 'string' ? value : '';
}

/** The "/query" before the caret when the caret's line starts with "/", or null. */
function slashQuery(input) {
  const caret = input.selectionStart ?? input.value.length;
  const before = input.value.slice(0, caret);
  const start = before.lastIndexOf('\n') + 1;
  const line = before.slice(start);
  return line.startsWith('/') && !/\s{2}/.test(line) ? { start, end: caret, text: line.slice(1).toLowerCase() } : null;
}

/**
 * options:
 *   input, composer    the composer's textarea and form
 *   signal             the view's AbortSignal
 *   conversation()     the current conversation, or null for a new chat
 *   pickedModels()     a new chat: the slugs of the models picked for it
 *   pickModel(slug)    a new chat: pick this model (false when it is not offered)
 *   sendTemplate({content, via})  send through the chat's turn (views/chat.mjs submitTurn)
 *   showNotice(text)
 *
 * Returns { buttons, decorate(view), openTemplate(id) }.
 */
export function createPromptTools({ input, composer, signal, conversation, pickedModels, pickModel, sendTemplate, showNotice }) {
  // ---- The prompt list -------------------------------------------------------

  let prompts = [];
  let menuOpen = false;
  let active = 0;
  let slash = null; // the "/query" being replaced, or null when opened by the button
  let loading = null;

  const menuList = h('ul', { id: 'prompt-menu-list', class: 'prompt-menu-list', role: 'listbox', 'aria-label': 'Prompts' });
  const menuEmpty = h('p', { class: 'hint', 'data-testid': 'prompt-menu-empty', hidden: true });
  const menu = h('div', { class: 'prompt-menu', 'data-testid': 'prompt-menu', hidden: true }, menuList, menuEmpty);
  composer.prepend(menu);
  const promptsButton = h(
    'button',
    { type: 'button', class: 'button', 'aria-haspopup': 'listbox', 'aria-expanded': 'false', 'data-testid': 'open-prompts' },
    'Prompts',
  );
  const templatesButton = h(
    'button',
    { type: 'button', class: 'button', 'aria-haspopup': 'dialog', 'data-testid': 'open-templates' },
    'Templates',
  );

  async function loadPrompts() {
    const c = conversation();
    const qs = c
      ? `?conversation_id=${encodeURIComponent(c.id)}`
      : `?tools=${pickedModels().map(encodeURIComponent).join(',')}`;
    loading ??= get(`prompts${qs}`, { signal })
      .then((body) => {
        prompts = Array.isArray(body?.items) ? body.items : [];
      })
      .catch((err) => {
        if (!isAbort(err)) showNotice(`The prompts could not be loaded: ${err.message}`);
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  }

  function shown() {
    const words = slash?.text ?? '';
    return prompts.filter((p) => !words || str(p.title).toLowerCase().includes(words));
  }

  function drawMenu() {
    const items = shown();
    active = Math.min(active, Math.max(items.length - 1, 0));
    replaceChildren(
      menuList,
      items.map((p, i) =>
        h(
          'li',
          {
            id: `prompt-option-${p.id}`,
            class: `prompt-option${i === active ? ' is-active' : ''}`,
            role: 'option',
            'aria-selected': String(i === active),
            'data-testid': 'prompt-option',
            onmousedown: (event) => event.preventDefault(),
            onclick: () => insert(p),
          },
          h('span', { class: 'prompt-option-title' }, p.title),
          p.for_conversation ? h('span', { class: 'badge', 'data-testid': 'prompt-for-chat' }, 'For this chat') : null,
          h('span', { class: 'prompt-option-text muted' }, str(p.text).slice(0, 120)),
          h(
            'button',
            {
              type: 'button',
              class: 'message-action',
              'aria-label': `Edit the prompt ${p.title}`,
              'data-testid': 'prompt-edit',
              onclick: (event) => {
                event.stopPropagation();
                closeMenu();
                openSave({ content: p.text }, p);
              },
            },
            'Edit',
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'message-action',
              'aria-label': `Delete the prompt ${p.title}`,
              'data-testid': 'prompt-delete',
              onclick: (event) => {
                event.stopPropagation();
                removePrompt(p);
              },
            },
            'Delete',
          ),
        ),
      ),
    );
    setMessage(menuEmpty, items.length ? '' : prompts.length ? 'No prompt has this title.' : 'No prompts yet: save one from a message or an answer.');
    input.setAttribute('aria-activedescendant', items[active] ? `prompt-option-${items[active].id}` : '');
  }

  async function openMenu(fromSlash) {
    slash = fromSlash;
    active = 0;
    menuOpen = true;
    menu.hidden = false;
    promptsButton.setAttribute('aria-expanded', 'true');
    input.setAttribute('aria-controls', 'prompt-menu-list');
    drawMenu();
    await loadPrompts();
    if (menuOpen) drawMenu();
  }

  function closeMenu() {
    menuOpen = false;
    menu.hidden = true;
    slash = null;
    promptsButton.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }

  function insert(p) {
    const text = str(p.text);
    const start = slash ? slash.start : (input.selectionStart ?? input.value.length);
    const end = slash ? slash.end : (input.selectionEnd ?? input.value.length);
    input.value = input.value.slice(0, start) + text + input.value.slice(end);
    closeMenu();
    input.focus();
    input.setSelectionRange(start + text.length, start + text.length);
  }

  async function removePrompt(p) {
    try {
      await del(`prompts/${encodeURIComponent(p.id)}`, { signal });
      prompts = prompts.filter((x) => x.id !== p.id);
      drawMenu();
    } catch (err) {
      if (!isAbort(err)) showNotice(`The prompt could not be deleted: ${err.message}`);
    }
  }

  promptsButton.addEventListener('click', () => (menuOpen ? closeMenu() : openMenu(null)));
  input.addEventListener('input', () => {
    const q = slashQuery(input);
    if (q) {
      if (!menuOpen) openMenu(q);
      else {
        slash = q;
        active = 0;
        drawMenu();
      }
    } else if (menuOpen && slash) closeMenu();
  });
  // Focus gone elsewhere (not into the list, and not back in the composer by then) closes it.
  input.addEventListener('blur', () =>
    setTimeout(() => {
      const at = document.activeElement;
      if (menuOpen && at !== input && !menu.contains(at)) closeMenu();
    }, 150),
  );
  // Capture: the list's keys come before the composer's Enter-to-send.
  composer.addEventListener(
    'keydown',
    (event) => {
      if (!menuOpen || event.target !== input) return;
      const items = shown();
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        active = (active + (event.key === 'ArrowDown' ? 1 : -1) + items.length) % Math.max(items.length, 1);
        drawMenu();
      } else if ((event.key === 'Enter' || event.key === 'Tab') && items[active] && !event.shiftKey) {
        insert(items[active]);
      } else if (event.key === 'Escape') {
        closeMenu();
      } else {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
    },
    true,
  );

  // ---- Save as prompt ------------------------------------------------------

  const saveTitle = h('input', { id: 'save-prompt-title', type: 'text', maxlength: '200', required: true, 'data-testid': 'save-prompt-title' });
  const saveText = h('textarea', { id: 'save-prompt-text', rows: '5', class: 'chat-input', required: true, 'data-testid': 'save-prompt-text' });
  const saveModels = h('fieldset', { class: 'choices', 'data-testid': 'save-prompt-models' });
  const saveHeading = h('h2', { id: 'save-prompt-heading' }, 'Save as prompt');
  const saveError = h('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'save-prompt-error' });
  const saveForm = h(
    'form',
    { class: 'form', method: 'dialog' },
    h('div', { class: 'field' }, h('label', { for: 'save-prompt-title' }, 'Title'), saveTitle),
    h('div', { class: 'field' }, h('label', { for: 'save-prompt-text' }, 'Text'), saveText),
    saveModels,
    saveError,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button primary', 'data-testid': 'save-prompt-submit' }, 'Save prompt'),
      h('button', { type: 'button', class: 'button', onclick: () => saveDialog.close() }, 'Cancel'),
    ),
  );
  const saveDialog = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': 'save-prompt-heading', 'data-testid': 'save-prompt-dialog' },
    h('header', { class: 'dialog-head' }, saveHeading),
    saveForm,
  );
  composer.after(saveDialog);

  let savingId = null; // the prompt being edited, or null for a new one

  /** Save msg's text as a new prompt, or edit the prompt `existing`. */
  function openSave(msg, existing = null) {
    const text = str(msg.content).trim();
    savingId = existing?.id ?? null;
    saveHeading.textContent = existing ? 'Edit prompt' : 'Save as prompt';
    saveTitle.value = existing ? existing.title : text.split('\n')[0].slice(0, TITLE_CHARS);
    saveText.value = text;
    setMessage(saveError, '');
    const chosen = new Set((existing?.tools ?? conversation()?.tools ?? []).map((t) => t.slug));
    const tools = [...(existing?.tools ?? []), ...(conversation()?.tools ?? [])].filter(
      (t, i, all) => all.findIndex((x) => x.slug === t.slug) === i,
    );
    replaceChildren(
      saveModels,
      h('legend', {}, 'For the models'),
      tools.length
        ? tools.map((t, i) =>
            h(
              'label',
              { class: 'choice' },
              h('input', { type: 'checkbox', value: t.slug, checked: chosen.has(t.slug), id: `save-prompt-model-${i}` }),
              ` ${t.display_name || t.slug}`,
            ),
          )
        : h('p', { class: 'hint' }, 'Any model.'),
    );
    saveDialog.showModal();
    saveTitle.focus();
  }

  saveForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const tools = [...saveModels.querySelectorAll('input:checked')].map((b) => b.value);
    try {
      const body = { title: saveTitle.value, text: saveText.value, tools };
      if (savingId) await patch(`prompts/${encodeURIComponent(savingId)}`, body, { signal });
      else await post('prompts', body, { signal });
      saveDialog.close();
      prompts = [];
    } catch (err) {
      if (!isAbort(err)) setMessage(saveError, err.message);
    }
  });

  /** Add "Save as prompt" (messages and finished answers) and the template a message was sent from. */
  function decorate(view) {
    const msg = view.msg;
    view.el.querySelector(':scope > .message-extra')?.remove();
    const savable =
      msg.sender_type === 'user' || (msg.sender_type === 'ai' && msg.status === 'complete' && str(msg.content).trim() !== '');
    if (!savable && !msg.template) return;
    view.el.append(
      h(
        'div',
        { class: 'message-extra' },
        msg.template
          ? h(
              'span',
              { class: 'muted', 'data-testid': 'message-template' },
              `From the template “${msg.template.name}” (version ${msg.template.version})`,
            )
          : null,
        savable
          ? h(
              'button',
              { type: 'button', class: 'message-action', 'data-testid': 'save-as-prompt', onclick: () => openSave(view.msg) },
              'Save as prompt',
            )
          : null,
      ),
    );
  }

  // ---- The template form ---------------------------------------------------

  let template = null;
  let previewTimer = 0;
  let previewSeq = 0;
  const pickList = h('ul', { class: 'template-pick-list', 'data-testid': 'template-pick-list' });
  const pick = h(
    'div',
    { 'data-testid': 'template-pick' },
    pickList,
    h('p', { class: 'hint' }, h('a', { href: hrefFor('/templates/gallery') }, 'Find more in the gallery'), ' · ', h('a', { href: hrefFor('/templates') }, 'Manage templates')),
  );
  const fields = h('div', { class: 'template-fields', 'data-testid': 'template-fields' });
  const preview = h('pre', { class: 'template-preview', 'aria-live': 'polite', 'data-testid': 'template-preview' });
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'template-error' });
  const sendButton = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'template-send' }, 'Send');
  const composeButton = h('button', { type: 'button', class: 'button', 'data-testid': 'template-compose' }, 'Put in composer');
  const form = h(
    'form',
    { class: 'form', hidden: true, 'data-testid': 'template-form' },
    fields,
    h('h3', { class: 'template-preview-title' }, 'Prompt'),
    preview,
    formError,
    h('div', { class: 'actions' }, sendButton, composeButton),
  );
  const heading = h('h2', { id: 'template-dialog-heading' }, 'Templates');
  const about = h('p', { class: 'dialog-subtitle muted', 'data-testid': 'template-about' });
  const dialog = h(
    'dialog',
    { class: 'dialog template-dialog', 'aria-labelledby': 'template-dialog-heading', 'data-testid': 'template-dialog' },
    h(
      'header',
      { class: 'dialog-head' },
      h('div', {}, heading, about),
      h('button', { type: 'button', class: 'button small', onclick: () => dialog.close() }, 'Close'),
    ),
    pick,
    form,
  );
  composer.after(dialog);

  async function openPicker() {
    template = null;
    heading.textContent = 'Templates';
    about.textContent = '';
    form.hidden = true;
    pick.hidden = false;
    replaceChildren(pickList, h('li', { class: 'muted' }, 'Loading…'));
    dialog.showModal();
    try {
      const body = await get('templates', { signal });
      const items = Array.isArray(body?.items) ? body.items : [];
      replaceChildren(
        pickList,
        items.length
          ? items.map((t) =>
              h(
                'li',
                {},
                h('button', { type: 'button', class: 'button small', 'data-testid': 'template-pick-item', onclick: () => openTemplate(t.id) }, t.name),
                ' ',
                h('span', { class: 'muted' }, t.description),
              ),
            )
          : h('li', { class: 'muted' }, 'You have no templates yet.'),
      );
    } catch (err) {
      if (!isAbort(err)) replaceChildren(pickList, h('li', { class: 'form-error' }, err.message));
    }
  }

  function fieldFor(v, i) {
    const id = `template-var-${i}`;
    const label = `${v.name.replace(/_/g, ' ')}${v.required ? ' (required)' : ''}`;
    let control;
    if (v.type === 'long_text') {
      control = h('textarea', { id, rows: '4', class: 'chat-input' });
      control.value = str(v.default);
    } else if (v.type === 'number') {
      control = h('input', { id, type: 'number', step: 'any', min: v.min ?? null, max: v.max ?? null });
      control.value = v.default ?? '';
    } else if (v.type === 'choice') {
      control = h(
        'select',
        { id },
        v.required && v.default !== null ? null : h('option', { value: '' }, '—'),
        (v.options ?? []).map((o) => h('option', { value: o }, o)),
      );
      control.value = v.default ?? '';
    } else if (v.type === 'boolean') {
      control = h('input', { id, type: 'checkbox' });
      control.checked = v.default === true;
    } else {
      control = h('input', { id, type: 'text' });
      control.value = str(v.default);
    }
    control.dataset.variable = v.name;
    control.setAttribute('data-testid', `template-var-${v.name}`);
    control.addEventListener('input', schedulePreview);
    control.addEventListener('change', schedulePreview);
    return h('div', { class: 'field' }, h('label', { for: id }, label), control);
  }

  function values() {
    const out = {};
    for (const control of fields.querySelectorAll('[data-variable]')) {
      const v = template.variables.find((x) => x.name === control.dataset.variable);
      if (v.type === 'boolean') out[v.name] = control.checked;
      else if (control.value !== '' || v.type === 'text' || v.type === 'long_text') out[v.name] = control.value;
    }
    return out;
  }

  function showError(err) {
    for (const el of fields.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    if (!err) {
      setMessage(formError, '');
      return;
    }
    setMessage(formError, err.message);
    const name = typeof err.field === 'string' && err.field.startsWith('values.') ? err.field.slice(7) : null;
    if (name) fields.querySelector(`[data-variable="${CSS.escape(name)}"]`)?.setAttribute('aria-invalid', 'true');
  }

  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(updatePreview, PREVIEW_DELAY_MS);
  }

  async function updatePreview() {
    if (!template) return null;
    const seq = ++previewSeq;
    try {
      const out = await post(`templates/${encodeURIComponent(template.id)}/preview`, { values: values() }, { signal });
      if (seq === previewSeq) {
        preview.textContent = out.prompt;
        showError(null);
      }
      return out.prompt;
    } catch (err) {
      if (!isAbort(err) && seq === previewSeq) showError(err);
      return null;
    }
  }

  async function openTemplate(id) {
    if (!dialog.open) dialog.showModal();
    pick.hidden = true;
    form.hidden = true;
    about.textContent = 'Loading…';
    try {
      template = await get(`templates/${encodeURIComponent(id)}`, { signal });
    } catch (err) {
      if (isAbort(err)) return;
      about.textContent = '';
      template = null;
      setMessage(formError, '');
      showNotice(err?.status === 404 ? 'This template does not exist or is not shared with you.' : err.message);
      dialog.close();
      return;
    }
    heading.textContent = template.name;
    about.textContent = [template.description, template.model ? `Model: ${template.model_display_name || template.model}` : '']
      .filter(Boolean)
      .join(' · ');
    replaceChildren(fields, template.variables.map(fieldFor));
    preview.textContent = '';
    showError(null);
    form.hidden = false;
    (fields.querySelector('[data-variable]') ?? sendButton).focus();
    updatePreview();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const t = template;
    const content = await updatePreview();
    if (content === null || !t) return;
    if (!conversation() && t.model && !pickModel(t.model)) {
      showError({ message: `The template's model (${t.model_display_name || t.model}) is not available; pick another in the new chat.` });
      return;
    }
    const body = values();
    dialog.close();
    sendTemplate({
      content,
      via: (c) => ({ path: `templates/${encodeURIComponent(t.id)}/use`, body: { values: body, conversation_id: c.id, stream: true } }),
    });
  });

  composeButton.addEventListener('click', async () => {
    if (!template) return;
    try {
      const out = await post(`templates/${encodeURIComponent(template.id)}/use`, { values: values() }, { signal });
      input.value = out.prompt;
      dialog.close();
      input.focus();
    } catch (err) {
      if (!isAbort(err)) showError(err);
    }
  });

  templatesButton.addEventListener('click', openPicker);

  return { buttons: [promptsButton, templatesButton], decorate, openTemplate };
}
