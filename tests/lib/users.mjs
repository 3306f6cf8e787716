// Test users: the seeded ones and fresh ones made with scripts/aichat-user.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ROOT } from './env.mjs';
import { dbUser } from './db.mjs';

/** Seeded users (credentials for request()/api()). */
export const DEMO = Object.freeze({ user: 'demo', password: 'demo' });
export const ADMIN = Object.freeze({ user: 'admin', password: 'admin' });
/** Known only to the htpasswd file: gets a users row on its first request. */
export const EXTUSER = Object.freeze({ user: 'extuser', password: 'extpass' });

/** A short random hex string, to make names unique across runs. */
export function uniq(bytes = 4) {
  return randomBytes(bytes).toString('hex');
}

/**
 * Create a user that can sign in, with scripts/aichat-user (password on stdin).
 * Returns { user, password, id } ready to spread into request options.
 */
export async function createUser({ prefix = 'test', role, displayName, email } = {}) {
  const username = `${prefix}_${uniq()}`;
  const password = `pw-${uniq(8)}`;
  const args = ['add', username];
  if (role) args.push('--role', role);
  if (displayName) args.push('--display-name', displayName);
  if (email) args.push('--email', email);

  await new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, 'scripts', 'aichat-user'), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`aichat-user ${args.join(' ')} failed (exit ${code}): ${output}`)),
    );
    child.stdin.end(`${password}\n`);
  });

  const row = await dbUser(username);
  if (!row) throw new Error(`aichat-user add ${username} succeeded but no users row exists`);
  return { user: username, password, id: row.id };
}
