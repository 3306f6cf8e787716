// Templates: #/templates lists your templates (and, below, those you
// deleted, with Restore); New template and Edit open the editor: name,
// description, category, content with {{variables}}, an optional system
// prompt and model, public or private, the variables (name, type, required,
// default, options for a choice, min and max for a number) and a note for
// the new version. Versions lists every version with its note, each older
// one with Restore. Use opens the template's form in a new chat.
// Errors name their field (the server's `field`), shown at that field.

import { del, get, getAll, patch, post, isAbort } from '../api.mjs';
import { h, replaceChildren, setMessage, formatDate, formatNumber } from '../dom.mjs';
import { hrefFor } from '../router.mjs';

const TYPES = ['text', 'long_text', 'number', 'choice', 'boolean'];

function str(value) {
  return typeof value === 'string' ? value : '';
}

export async function render({ outlet, signal }) {
  let tools = [];
  let editing = null; // the template being edited, or {} for a new one

  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'templates-status' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'templates-error' });
  const list = h('ul', { class: 'template-list', 'data-testid': 'template-list' });
  const trash = h('ul', { class: 'template-list', 'data-testid': 'template-trash' });
  const versions = h('section', { class: 'template-versions', hidden: true, 'data-testid': 'template-versions' });
  const newButton = h('button', { type: 'button', class: 'button primary', 'data-testid': 'template-new' }, 'New template');

  // ---- The editor ------------------------------------------------------------

  const f = {
    name: h('input', { id: 'tpl-name', type: 'text', maxlength: '200', 'data-testid': 'tpl-name' }),
    description: h('textarea', { id: 'tpl-description', rows: '2', class: 'chat-input', 'data-testid': 'tpl-description' }),
    category: h('input', { id: 'tpl-category', type: 'text', maxlength: '50', 'data-testid': 'tpl-category' }),
    content: h('textarea', { id: 'tpl-content', rows: '6', class: 'chat-input', 'data-testid': 'tpl-content' }),
    system_prompt: h('textarea', { id: 'tpl-system', rows: '3', class: 'chat-input', 'data-testid': 'tpl-system' }),
    model: h('select', { id: 'tpl-model', 'data-testid': 'tpl-model' }),
    is_public: h('input', { id: 'tpl-public', type: 'checkbox', 'data-testid': 'tpl-public' }),
    note: h('input', { id: 'tpl-note', type: 'text', maxlength: '500', 'data-testid': 'tpl-note' }),
  };
  const varRows = h('tbody', { 'data-testid': 'tpl-variables' });
  const editorError = h('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'tpl-error' });
  const field = (id, label, control, hint) =>
    h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'hint' }, hint) : null);
  const editorTitle = h('h2', { id: 'tpl-editor-title' }, 'New template');
  const editor = h(
    'form',
    { class: 'form template-editor', hidden: true, 'aria-labelledby': 'tpl-editor-title', 'data-testid': 'template-editor' },
    editorTitle,
    field('tpl-name', 'Name', f.name),
    field('tpl-description', 'Description', f.description),
    field('tpl-category', 'Category', f.category),
    field('tpl-content', 'Content', f.content, 'Write {{name}} where a value goes; \\{{ for a literal {{.'),
    field('tpl-system', 'System prompt (optional)', f.system_prompt),
    field('tpl-model', 'Preferred model (optional)', f.model),
    h('div', { class: 'field' }, h('label', { for: 'tpl-public' }, f.is_public, ' Public: in the gallery for everyone')),
    h(
      'fieldset',
      { class: 'template-variables' },
      h('legend', {}, 'Variables'),
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ['Name', 'Type', 'Required', 'Default', 'Options (one a line)', 'Min', 'Max', ''].map((t) => h('th', {}, t)))),
        varRows,
      ),
      h('button', { type: 'button', class: 'button small', 'data-testid': 'tpl-add-variable', onclick: () => varRows.append(varRow({})) }, 'Add a variable'),
    ),
    field('tpl-note', 'Note for this version (optional)', f.note),
    editorError,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button primary', 'data-testid': 'tpl-save' }, 'Save'),
      h('button', { type: 'button', class: 'button', onclick: () => closeEditor() }, 'Cancel'),
    ),
  );

  function varRow(v) {
    const input = (type, value, label, extra = {}) => {
      const el = h('input', { type, 'aria-label': label, ...extra });
      el.value = value ?? '';
      return el;
    };
    const name = input('text', v.name, 'Variable name', { 'data-testid': 'tpl-var-name' });
    const type = h('select', { 'aria-label': 'Type', 'data-testid': 'tpl-var-type' }, TYPES.map((t) => h('option', { value: t }, t.replace('_', ' '))));
    type.value = v.type ?? 'text';
    const required = h('input', { type: 'checkbox', 'aria-label': 'Required', 'data-testid': 'tpl-var-required' });
    required.checked = v.required === true;
    const def = input('text', v.default === null || v.default === undefined ? '' : String(v.default), 'Default', { 'data-testid': 'tpl-var-default' });
    const options = h('textarea', { rows: '2', 'aria-label': 'Options', 'data-testid': 'tpl-var-options' });
    options.value = (v.options ?? []).join('\n');
    const min = input('number', v.min, 'Min', { step: 'any' });
    const max = input('number', v.max, 'Max', { step: 'any' });
    const row = h(
      'tr',
      { 'data-testid': 'tpl-var' },
      [name, type, required, def, options, min, max].map((c) => h('td', {}, c)),
      h('td', {}, h('button', { type: 'button', class: 'button small', onclick: () => row.remove() }, 'Remove')),
    );
    row.read = () => {
      const t = type.value;
      const out = { name: name.value.trim(), type: t, required: required.checked };
      const d = def.value;
      if (d !== '') {
        if (t === 'number') out.default = Number(d);
        else if (t === 'boolean') out.default = ['yes', 'true', '1'].includes(d.trim().toLowerCase());
        else out.default = d;
      }
      if (t === 'choice') out.options = options.value.split('\n').map((o) => o.trim()).filter(Boolean);
      if (t === 'number' && min.value !== '') out.min = Number(min.value);
      if (t === 'number' && max.value !== '') out.max = Number(max.value);
      return out;
    };
    return row;
  }

  function openEditor(t) {
    editing = t;
    editorTitle.textContent = t.id ? `Edit “${t.name}” (version ${t.version})` : 'New template';
    f.name.value = str(t.name);
    f.description.value = str(t.description);
    f.category.value = str(t.category) || 'General';
    f.content.value = str(t.content);
    f.system_prompt.value = str(t.system_prompt);
    replaceChildren(f.model, h('option', { value: '' }, 'Any model'), tools.map((m) => h('option', { value: m.slug }, m.display_name || m.slug)));
    f.model.value = t.model ?? '';
    f.is_public.checked = t.is_public === true;
    f.note.value = '';
    replaceChildren(varRows, (t.variables ?? []).map(varRow));
    showEditorError(null);
    editor.hidden = false;
    versions.hidden = true;
    f.name.focus();
  }

  function closeEditor() {
    editing = null;
    editor.hidden = true;
  }

  function showEditorError(err) {
    for (const el of editor.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    setMessage(editorError, err ? err.message : '');
    const name = err?.field?.split(/[.[]/)[0];
    if (name && f[name]) f[name].setAttribute('aria-invalid', 'true');
    const m = /^variables\[(\d+)\]/.exec(err?.field ?? '');
    if (m) varRows.children[Number(m[1])]?.setAttribute('aria-invalid', 'true');
  }

  editor.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      name: f.name.value,
      description: f.description.value,
      category: f.category.value,
      content: f.content.value,
      system_prompt: f.system_prompt.value || null,
      model: f.model.value || null,
      is_public: f.is_public.checked,
      variables: [...varRows.children].map((row) => row.read()),
    };
    if (f.note.value.trim()) body.note = f.note.value;
    try {
      if (editing?.id) await patch(`templates/${encodeURIComponent(editing.id)}`, body, { signal });
      else await post('templates', body, { signal });
      closeEditor();
      await load();
    } catch (err) {
      if (!isAbort(err)) showEditorError(err);
    }
  });

  // ---- The lists -------------------------------------------------------------

  async function showVersions(t) {
    closeEditor();
    versions.hidden = false;
    replaceChildren(versions, h('h2', {}, `Versions of “${t.name}”`), h('p', { class: 'muted' }, 'Loading…'));
    try {
      const body = await get(`templates/${encodeURIComponent(t.id)}/versions`, { signal });
      const items = Array.isArray(body?.items) ? body.items : [];
      replaceChildren(
        versions,
        h('h2', {}, `Versions of “${t.name}”`),
        h(
          'ol',
          { class: 'template-version-list', reversed: true },
          items.map((v) =>
            h(
              'li',
              { 'data-testid': 'template-version' },
              h('strong', {}, `Version ${v.version}`),
              ` · ${formatDate(v.created_at)} · ${v.note || 'no note'}`,
              h('pre', { class: 'template-preview' }, v.content),
              v.version === t.version
                ? h('span', { class: 'badge' }, 'Current')
                : h(
                    'button',
                    {
                      type: 'button',
                      class: 'button small',
                      'data-testid': 'template-version-restore',
                      onclick: async () => {
                        try {
                          await post(`templates/${encodeURIComponent(t.id)}/versions/${v.version}/restore`, {}, { signal });
                          versions.hidden = true;
                          await load();
                        } catch (err) {
                          if (!isAbort(err)) setMessage(error, err.message);
                        }
                      },
                    },
                    'Restore this version',
                  ),
            ),
          ),
        ),
      );
    } catch (err) {
      if (!isAbort(err)) setMessage(error, err.message);
    }
  }

  function item(t) {
    const action = (label, testid, fn, cls = 'button small') => h('button', { type: 'button', class: cls, 'data-testid': testid, onclick: fn }, label);
    const act = async (fn) => {
      try {
        await fn();
        await load();
      } catch (err) {
        if (!isAbort(err)) setMessage(error, err.message);
      }
    };
    return h(
      'li',
      { class: 'template-item', 'data-testid': 'template-item', 'data-id': t.id },
      h('div', {}, h('strong', { 'data-testid': 'template-name' }, t.name), ' ', t.is_public ? h('span', { class: 'badge' }, 'Public') : null),
      h('p', { class: 'muted' }, `${t.category} · version ${t.version} · used ${formatNumber(t.usage_count)} times`),
      t.description ? h('p', {}, t.description) : null,
      h(
        'div',
        { class: 'actions' },
        t.deleted_at
          ? action('Restore', 'template-restore', () => act(() => post(`templates/${encodeURIComponent(t.id)}/restore`, {}, { signal })))
          : [
              h('a', { class: 'button small primary', href: `${hrefFor('/chat')}?template=${encodeURIComponent(t.id)}`, 'data-testid': 'template-use' }, 'Use'),
              action('Edit', 'template-edit', () => openEditor(t)),
              action('Versions', 'template-versions-open', () => showVersions(t)),
              action('Delete', 'template-delete', () => act(() => del(`templates/${encodeURIComponent(t.id)}`, { signal })), 'button small danger'),
            ],
      ),
    );
  }

  async function load() {
    setMessage(error, '');
    status.textContent = 'Loading…';
    try {
      const [mine, deleted] = await Promise.all([get('templates', { signal }), get('templates?deleted=true', { signal })]);
      replaceChildren(list, (mine?.items ?? []).map(item));
      replaceChildren(trash, (deleted?.items ?? []).map(item));
      status.textContent = mine?.items?.length ? '' : 'You have no templates yet.';
      trashSection.hidden = !deleted?.items?.length;
    } catch (err) {
      if (!isAbort(err)) setMessage(error, err.message);
      status.textContent = '';
    }
  }

  const trashSection = h('section', { hidden: true }, h('h2', {}, 'Deleted templates'), trash);
  newButton.addEventListener('click', () => openEditor({}));

  replaceChildren(
    outlet,
    h(
      'section',
      { class: 'templates', 'aria-labelledby': 'templates-title' },
      h(
        'header',
        {},
        h('h1', { id: 'templates-title', tabindex: '-1' }, 'Templates'),
        h('p', { class: 'lead' }, 'Prompts with blanks to fill. ', h('a', { href: hrefFor('/templates/gallery'), 'data-testid': 'gallery-link' }, 'Browse the gallery'), ' for everyone’s public templates.'),
        newButton,
      ),
      editor,
      versions,
      status,
      error,
      list,
      trashSection,
    ),
  );

  try {
    tools = (await getAll('tools?limit=100&sort=name', { signal })).filter((t) => t.available !== false);
  } catch (err) {
    if (isAbort(err)) return;
  }
  await load();
}
