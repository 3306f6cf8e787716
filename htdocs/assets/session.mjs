// The signed-in user, shared by the shell and the views.
//
// Views read `session.user`, and call `session.set(user)` with the user object
// the API returned after a change (e.g. PATCH /me), or `session.refresh()`
// when something else may have changed it (credits after a chat). The header
// listens for "change" and redraws.

import { get } from './api.mjs';

class Session extends EventTarget {
  #user = null;

  /** The current user (the GET /me object), or null before sign-in is known. */
  get user() {
    return this.#user;
  }

  /** Replace the current user and notify listeners. */
  set(user) {
    this.#user = user;
    this.dispatchEvent(new CustomEvent('change', { detail: user }));
  }

  /** Re-read GET /me and notify listeners. */
  async refresh(options = {}) {
    const user = await get('me', options);
    this.set(user);
    return user;
  }

  /** Call fn(user) on every change; returns a function that stops it. */
  subscribe(fn) {
    const listener = (event) => fn(event.detail);
    this.addEventListener('change', listener);
    return () => this.removeEventListener('change', listener);
  }
}

export const session = new Session();

/** The name to show for a user: display name, falling back to username. */
export function displayName(user) {
  const name = typeof user?.display_name === 'string' ? user.display_name.trim() : '';
  return name || user?.username || '';
}

/** True when the user may open the admin area. */
export function isAdmin(user) {
  return user?.role === 'admin';
}
