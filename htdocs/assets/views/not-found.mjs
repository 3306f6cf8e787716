// Shown for a hash path no route answers.

import { h, append } from '../dom.mjs';

export async function render({ outlet, path }) {
  append(
    outlet,
    h(
      'section',
      { class: 'panel' },
      h('h1', {}, 'Page not found'),
      h('p', {}, 'Nothing lives at ', h('code', {}, path), '.'),
      h('p', {}, h('a', { href: '#/' }, 'Go to your chats')),
    ),
  );
}
