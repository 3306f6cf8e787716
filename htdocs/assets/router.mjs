// A small hash router: "#/path/with/:params?query" → one view module.
//
// Views are ES modules loaded on first use (dynamic import, no bundler). A
// view module exports
//
//   export async function render(ctx) { … return optionalCleanup; }
//
// where ctx is { outlet, params, query, path, signal, navigate, setTitle }:
//   outlet   the <main> element, already emptied, for the view to fill
//   params   decoded ":name" segments of the route pattern
//   query    URLSearchParams of the part after "?" in the hash
//   signal   AbortSignal that fires when the user navigates away (pass it to
//            api calls so stale answers never land in the next view)
//   navigate(path) go to another route, e.g. navigate('/chats/' + id)
//   setTitle(text) refine document.title (defaults to the route's title)
// The optional cleanup function runs before the next view renders.

/** Turn "/chats/:id" into a matcher. */
function compile(pattern) {
  const keys = [];
  const source = pattern
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        keys.push(segment.slice(1));
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${source}/?$`), keys };
}

/** Split location.hash into a path ("/profile") and a query. */
export function parseHash(hash) {
  let rest = hash.replace(/^#/, '');
  if (!rest.startsWith('/')) rest = `/${rest}`;
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : rest.slice(q + 1));
  return { path, query };
}

function isRouteHash(hash) {
  return hash.startsWith('#/');
}

/** The href for an in-app path: "/profile" → "#/profile". */
export function hrefFor(path) {
  return `#${path.startsWith('/') ? path : `/${path}`}`;
}

export class Router extends EventTarget {
  #routes;
  #outlet;
  #notFound;
  #appName;
  #controller = null;
  #cleanup = null;
  #generation = 0;
  #started = false;

  /**
   * @param {object} options
   * @param {Array<{path: string, title: string, view: () => Promise<object>}>} options.routes
   * @param {HTMLElement} options.outlet  where views render
   * @param {() => Promise<object>} options.notFound  view for unknown paths
   * @param {string} options.appName  suffix of document.title
   */
  constructor({ routes, outlet, notFound, appName }) {
    super();
    this.#routes = routes.map((route) => ({ ...route, ...compile(route.path) }));
    this.#outlet = outlet;
    this.#notFound = { path: '', title: 'Not found', view: notFound };
    this.#appName = appName;
  }

  /** Find the route for a path: { route, params } (route null when none). */
  match(path) {
    for (const route of this.#routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      const params = {};
      try {
        route.keys.forEach((key, i) => {
          params[key] = decodeURIComponent(m[i + 1]);
        });
      } catch {
        continue; // malformed %-escape: not this route
      }
      return { route, params };
    }
    return { route: null, params: {} };
  }

  /** Render the current hash and follow hashchange from now on. */
  start() {
    if (this.#started) return;
    this.#started = true;
    window.addEventListener('hashchange', () => {
      // "#main" and the like are in-page anchors (the skip link), not routes.
      if (isRouteHash(location.hash) || location.hash === '') this.#render(true);
    });
    this.#render(false);
  }

  /** Go to an in-app path ("/profile"). */
  navigate(path) {
    const href = hrefFor(path);
    if (location.hash === href) this.#render(true);
    else location.hash = href;
  }

  async #render(moveFocus) {
    const generation = ++this.#generation;
    const { path, query } = parseHash(isRouteHash(location.hash) ? location.hash : '#/');
    const found = this.match(path);
    const route = found.route ?? this.#notFound;

    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    if (typeof this.#cleanup === 'function') {
      try {
        this.#cleanup();
      } catch (err) {
        console.error(err);
      }
    }
    this.#cleanup = null;

    this.#setTitle(route.title);
    this.dispatchEvent(new CustomEvent('route', { detail: { route, params: found.params, path } }));
    this.#outlet.setAttribute('aria-busy', 'true');

    let cleanup = null;
    try {
      const module = await route.view();
      if (generation !== this.#generation) return;
      this.#outlet.replaceChildren();
      cleanup = await module.render({
        outlet: this.#outlet,
        params: found.params,
        query,
        path,
        signal: controller.signal,
        navigate: (to) => this.navigate(to),
        setTitle: (text) => {
          if (generation === this.#generation) this.#setTitle(text);
        },
      });
    } catch (err) {
      if (generation !== this.#generation || err?.name === 'AbortError') return;
      if (err?.code === 'unauthenticated') return; // already on the way to sign-in
      console.error(err);
      this.#outlet.replaceChildren(viewError(err));
    } finally {
      if (generation === this.#generation) this.#outlet.removeAttribute('aria-busy');
    }

    if (generation !== this.#generation) {
      if (typeof cleanup === 'function') cleanup();
      return;
    }
    this.#cleanup = cleanup;
    if (moveFocus) focusHeading(this.#outlet);
  }

  #setTitle(text) {
    document.title = text ? `${text} · ${this.#appName}` : this.#appName;
  }
}

/** Move focus to the view's main heading so screen readers announce the new view. */
function focusHeading(outlet) {
  const heading = outlet.querySelector('h1');
  if (!heading) return;
  heading.setAttribute('tabindex', '-1');
  heading.focus({ preventScroll: false });
}

function viewError(err) {
  const box = document.createElement('div');
  box.className = 'panel';
  const title = document.createElement('h1');
  title.textContent = 'Something went wrong';
  const text = document.createElement('p');
  text.setAttribute('role', 'alert');
  text.textContent = err?.message || 'This page could not be shown.';
  box.append(title, text);
  return box;
}
