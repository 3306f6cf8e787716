// Bounded polling for states that change outside the request being tested
// (an audit row written after the response, a database coming back).

import { setTimeout as delay } from 'node:timers/promises';

/**
 * Call fn() until done(value) is true or the tries run out; returns the last
 * value either way, so the caller's assertion shows the final state.
 */
export async function poll(fn, done, { tries = 50, intervalMs = 100 } = {}) {
  let value;
  for (let i = 0; i < tries; i++) {
    value = await fn();
    if (done(value)) return value;
    if (i < tries - 1) await delay(intervalMs);
  }
  return value;
}
