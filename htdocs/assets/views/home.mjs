// Home: greets the user and shows their role and credit balance.

import { h, replaceChildren, formatNumber, formatDate } from '../dom.mjs';
import { session, displayName } from '../session.mjs';

const ROLE_LABELS = { user: 'User', admin: 'Administrator' };

function fact(label, value, testid) {
  return h('div', { class: 'fact' }, h('dt', {}, label), h('dd', { 'data-testid': testid }, value));
}

function draw(outlet, user) {
  replaceChildren(
    outlet,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'home-title' },
      h('h1', { id: 'home-title' }, `Hello, ${displayName(user)}`),
      h('p', { class: 'lead' }, 'Welcome to your AI chat workspace.'),
      h(
        'dl',
        { class: 'facts' },
        fact('Role', ROLE_LABELS[user.role] ?? user.role, 'home-role'),
        fact('Credits', formatNumber(user.token_credits), 'home-credits'),
        fact('Username', user.username, 'home-username'),
        fact('Member since', formatDate(user.created_at), 'home-created'),
      ),
    ),
  );
}

export async function render({ outlet }) {
  draw(outlet, session.user);
  return session.subscribe((user) => {
    if (user) draw(outlet, user);
  });
}
