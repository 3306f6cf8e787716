// Profile: the account's facts (role, credits, username, member since), a
// link to what used the credits (Usage: chat answers, summaries, API calls
// and the balance's latest changes), and the form that edits display name
// and email (PATCH /me).
//
// Validation is the server's: the form does not pre-check (novalidate), so
// the message the user sees is the one the API gives for the field (422
// {"error":{"field":…}}), shown under that field.

import { patch, isAbort } from '../api.mjs';
import { h, append, replaceChildren, setMessage, formatNumber, formatDate } from '../dom.mjs';
import { session } from '../session.mjs';
import { hrefFor } from '../router.mjs';

const ROLE_LABELS = { user: 'User', admin: 'Administrator' };

const FIELDS = [
  {
    name: 'display_name',
    label: 'Display name',
    type: 'text',
    autocomplete: 'name',
    hint: 'How your name appears across mod_aichat.',
  },
  {
    name: 'email',
    label: 'Email',
    type: 'email',
    autocomplete: 'email',
    hint: 'Optional. Leave empty to remove it.',
  },
];

function fieldId(name) {
  return `profile-${name.replace(/_/g, '-')}`;
}

function fact(label, value, testid) {
  return h('div', { class: 'fact' }, h('dt', {}, label), h('dd', { 'data-testid': testid }, value));
}

function drawFacts(list, user) {
  replaceChildren(
    list,
    fact('Role', ROLE_LABELS[user.role] ?? user.role, 'profile-role'),
    fact('Credits', formatNumber(user.token_credits), 'profile-credits'),
    fact('Username', user.username, 'profile-username'),
    fact('Member since', formatDate(user.created_at), 'profile-created'),
  );
}

function valuesOf(user) {
  return { display_name: user.display_name ?? '', email: user.email ?? '' };
}

export async function render({ outlet, signal }) {
  let saved = valuesOf(session.user);

  const inputs = {};
  const errors = {};
  const fields = FIELDS.map((f) => {
    const id = fieldId(f.name);
    inputs[f.name] = h('input', {
      id,
      name: f.name,
      type: f.type,
      autocomplete: f.autocomplete,
      spellcheck: 'false',
      'aria-describedby': `${id}-hint ${id}-error`,
    });
    inputs[f.name].value = saved[f.name];
    errors[f.name] = h('p', {
      id: `${id}-error`,
      class: 'field-error',
      'data-testid': `field-error-${f.name}`,
      hidden: true,
    });
    return h(
      'div',
      { class: 'field' },
      h('label', { for: id }, f.label),
      inputs[f.name],
      h('p', { id: `${id}-hint`, class: 'hint' }, f.hint),
      errors[f.name],
    );
  });

  const formError = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'form-error', hidden: true });
  const success = h('p', { class: 'form-success', role: 'status', 'data-testid': 'form-success' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Save changes');
  const facts = h('dl', { class: 'facts', 'aria-label': 'Your account' });
  drawFacts(facts, session.user);

  const form = h(
    'form',
    { class: 'form', novalidate: true, 'aria-labelledby': 'profile-title' },
    fields,
    formError,
    h('div', { class: 'actions' }, submit, success),
  );

  append(
    outlet,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'profile-title' },
      h('h1', { id: 'profile-title' }, 'Profile'),
      facts,
      h(
        'p',
        { class: 'hint', 'data-testid': 'profile-usage' },
        'Chat answers, summaries and API calls all spend these credits: ',
        h('a', { href: hrefFor('/usage') }, 'see what used them and the latest changes of your balance'),
        '.',
      ),
      form,
    ),
  );

  function clearMessages() {
    for (const name of Object.keys(inputs)) {
      setMessage(errors[name], '');
      inputs[name].removeAttribute('aria-invalid');
    }
    setMessage(formError, '');
    success.textContent = '';
  }

  function showError(err) {
    const name = err.field;
    if (name && inputs[name]) {
      setMessage(errors[name], err.message);
      inputs[name].setAttribute('aria-invalid', 'true');
      inputs[name].focus();
    } else {
      setMessage(formError, err.message || 'Your changes could not be saved.');
    }
  }

  form.addEventListener('input', () => {
    success.textContent = '';
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    clearMessages();

    const body = {};
    const displayName = inputs.display_name.value.trim();
    const email = inputs.email.value.trim();
    if (displayName !== saved.display_name) body.display_name = displayName;
    if (email !== saved.email) body.email = email === '' ? null : email;
    if (Object.keys(body).length === 0) {
      success.textContent = 'No changes to save.';
      return;
    }

    submit.disabled = true;
    submit.textContent = 'Saving…';
    form.setAttribute('aria-busy', 'true');
    try {
      const user = await patch('me', body, { signal });
      session.set(user);
      saved = valuesOf(user);
      inputs.display_name.value = saved.display_name;
      inputs.email.value = saved.email;
      success.textContent = 'Profile saved.';
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      showError(err);
    } finally {
      submit.disabled = false;
      submit.textContent = 'Save changes';
      form.removeAttribute('aria-busy');
    }
  });

  return session.subscribe((user) => {
    if (user) drawFacts(facts, user);
  });
}
