// The app shell: boot, header, navigation bar, router.
//
// Views and nav entries are registered in routes.mjs; nothing here needs to
// change when a view is added.

import { apiStatus, isUnavailable } from './api.mjs';
import { h, replaceChildren, formatNumber } from './dom.mjs';
import { Router, hrefFor } from './router.mjs';
import { routes, links, notFound } from './routes.mjs';
import { session, displayName } from './session.mjs';

const APP_NAME = 'mod_aichat';

const els = {
  banner: document.getElementById('service-banner'),
  nav: document.getElementById('nav-list'),
  userName: document.querySelector('[data-testid="user-name"]'),
  credits: document.querySelector('[data-testid="credits"]'),
  account: document.getElementById('account'),
  main: document.getElementById('main'),
};

let currentSection = null;

function showBanner(show) {
  els.banner.hidden = !show;
}

function renderHeader(user) {
  els.userName.textContent = displayName(user);
  els.userName.title = user.username ? `Signed in as ${user.username}` : '';
  els.credits.textContent = formatNumber(user.token_credits);
  els.credits.dataset.value = String(user.token_credits ?? '');
  els.account.hidden = false;
}

function renderNav(user) {
  const items = [];
  for (const route of routes) {
    if (!route.nav) continue;
    if (route.visible && !route.visible(user)) continue;
    items.push(
      h('li', {}, h('a', { href: hrefFor(route.path), 'data-section': route.path }, route.nav)),
    );
  }
  for (const link of links) {
    if (link.visible && !link.visible(user)) continue;
    items.push(h('li', {}, h('a', { href: link.href }, link.label)));
  }
  items.push(h('li', { class: 'nav-signout' }, h('a', { href: 'logout' }, 'Sign out')));
  replaceChildren(els.nav, items);
  markCurrent();
}

function markCurrent() {
  for (const a of els.nav.querySelectorAll('a[data-section]')) {
    if (a.dataset.section === currentSection) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function showBootError(err) {
  replaceChildren(
    els.main,
    h(
      'section',
      { class: 'panel' },
      h('h1', {}, 'The app could not start'),
      h('p', { role: 'alert' }, err?.message || 'Unknown error.'),
      h('button', { type: 'button', class: 'button', onclick: () => location.reload() }, 'Try again'),
    ),
  );
}

async function boot() {
  apiStatus.addEventListener('unavailable', () => showBanner(true));
  apiStatus.addEventListener('available', () => showBanner(false));
  showBanner(isUnavailable());

  session.subscribe((user) => {
    if (!user) return;
    renderHeader(user);
    renderNav(user);
  });

  try {
    await session.refresh();
  } catch (err) {
    if (err?.code === 'unauthenticated') return; // redirecting to sign-in
    console.error(err);
    showBootError(err);
    return;
  }

  const router = new Router({ routes, outlet: els.main, notFound, appName: APP_NAME });
  router.addEventListener('route', (event) => {
    const { route } = event.detail;
    currentSection = route.section ?? route.path;
    markCurrent();
  });
  router.start();
  document.body.dataset.state = 'ready';
}

boot();
