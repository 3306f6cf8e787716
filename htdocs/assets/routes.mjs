// The one place where views and navigation entries are registered.
//
// To add a view (Catalog, Chat, Shared links, …):
//   1. write htdocs/assets/views/<name>.mjs exporting `render(ctx)`
//      (see router.mjs for ctx);
//   2. add an entry to `routes` below.
//
// Route entry:
//   path     hash path, ":name" segments become ctx.params.name
//            (e.g. '/chats/:id' answers "#/chats/6f1c…")
//   title    document title while the view is shown
//   view     () => import('./views/<name>.mjs')   (loaded on first visit)
//   nav      optional label: the route gets a link in the navigation bar,
//            in the order of this list
//   section  optional: the nav entry (by path) to mark as current while this
//            route is shown, e.g. '/chats' for '/chats/:id'
//   visible  optional (user) => boolean, hides the nav link for some users
//
// `links` are ordinary links (pages served by httpd, not client-side views)
// shown in the navigation bar after the routes.

import { isAdmin } from './session.mjs';

export const routes = [
  // The landing page is a new chat, as in every peer: the sidebar holds search, tags,
  // saved searches, pinned and recent chats.
  { path: '/', title: 'Chat', section: '/chat', view: () => import('./views/chat.mjs') },
  { path: '/chat', title: 'Chat', nav: 'Chat', view: () => import('./views/chat.mjs') },
  { path: '/chat/:id', title: 'Chat', section: '/chat', view: () => import('./views/chat.mjs') },
  { path: '/catalog', title: 'Catalog', nav: 'Catalog', view: () => import('./views/catalog.mjs') },
  { path: '/templates', title: 'Templates', nav: 'Templates', view: () => import('./views/templates.mjs') },
  { path: '/templates/gallery', title: 'Template gallery', section: '/templates', view: () => import('./views/gallery.mjs') },
  { path: '/shares', title: 'Shared links', nav: 'Shared links', view: () => import('./views/shares.mjs') },
  { path: '/fork/:token', title: 'Shared chat', section: '/chat', view: () => import('./views/fork.mjs') },
  { path: '/library', title: 'Import & export', nav: 'Import & export', view: () => import('./views/library.mjs') },
  { path: '/profile', title: 'Profile', nav: 'Profile', view: () => import('./views/profile.mjs') },
  { path: '/keys', title: 'API keys', nav: 'API keys', view: () => import('./views/keys.mjs') },
  { path: '/usage', title: 'Usage', nav: 'Usage', view: () => import('./views/usage.mjs') },
];

export const links = [
  // Relative to the shell's URL (/chat/), so /chat/admin/.
  { label: 'Admin', href: 'admin/', visible: isAdmin },
];

export const notFound = () => import('./views/not-found.mjs');
