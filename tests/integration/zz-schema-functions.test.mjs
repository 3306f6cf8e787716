// The SQL functions live in sql/functions/ and aichat-migrate applies them
// after the migrations, recording their digest in schema_functions; the
// module checks that digest against the one it was built with. A database
// whose functions are not the module's is refused as an outdated schema is
// (503 schema_outdated, a log line naming both digests and aichat-migrate),
// as is one migrated before schema_functions existed; aichat-migrate mends
// both, and a second aichat-migrate applies nothing.
// Named zz-… so it runs last: it restarts the test httpd (every node of it,
// gracefully).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { api } from '../lib/http.mjs';
import { sqlValue } from '../lib/db.mjs';
import { poll } from '../lib/poll.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { ROOT } from '../lib/env.mjs';
import { DEMO } from '../lib/users.mjs';
import { NODES, errorLogsMark, errorLogsSince, restartGracefully } from '../lib/nodes.mjs';

const run = promisify(execFile);
const MIGRATE = `${ROOT}/scripts/aichat-migrate`;
const SCRATCH_DB = 'aichat_migrate_test';
// What aichat-migrate applies: every migration, then every function file in name order.
const MIGRATIONS = readdirSync(`${ROOT}/sql/migrations`).filter((f) => f.endsWith('.sql'));
const FUNCTIONS_APPLIED = `aichat-migrate: applied the functions (${readdirSync(`${ROOT}/sql/functions`)
  .filter((f) => f.endsWith('.sql')).sort().join(' ')})`;

// What the migrator says once it applied every file of sql/functions/, in name order.
const APPLIED_FUNCTIONS = `aichat-migrate: applied the functions (${readdirSync(join(ROOT, 'sql', 'functions'))
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .join(' ')})`;

/** Run aichat-migrate on the tree's sql/ (on another database with env). */
async function migrate(env = {}) {
  try {
    const { stdout } = await run(MIGRATE, ['--sql-dir', `${ROOT}/sql`], {
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    return stdout;
  } catch (err) {
    throw new Error(`aichat-migrate failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/** psql as the cluster's superuser on the maintenance database. */
async function superuser(statement) {
  await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-U', 'postgres', '-d', 'postgres', '-c', statement], {
    timeout: 60_000,
  });
}

/** GET /health (of one node); a connection the restart closed counts as no answer yet. */
function healthOrNothing(node) {
  return api('GET', '/health', { base: node.url }).catch(() => ({ status: 0 }));
}

/** Each node's /health once it says `database` (each node's last answer). */
async function healthOfEachNode(database) {
  const answers = [];
  for (const node of NODES) {
    answers.push(await poll(() => healthOrNothing(node), (res) => res.json?.database === database, { tries: 60, intervalMs: 500 }));
  }
  return answers;
}

function applied(output) {
  return output.split('\n').filter((line) => line.startsWith('aichat-migrate: applied'));
}

let tampered = false;

after(async () => {
  if (tampered) await migrate();
  await superuser(`DROP DATABASE IF EXISTS ${SCRATCH_DB}`);
});

test('aichat-migrate on the migrated test database applies nothing and says so', async () => {
  const output = await migrate();
  assert.deepEqual(applied(output), [], output);
  assert.match(output, /^aichat-migrate: schema at version \d+, functions [0-9a-f]{64}: nothing new, nothing applied$/m);
});

test('a fresh database gets every migration, then the functions; a second run applies nothing', async () => {
  await superuser(`DROP DATABASE IF EXISTS ${SCRATCH_DB}`);
  await superuser(`CREATE DATABASE ${SCRATCH_DB} OWNER ${process.env.PGUSER}`);
  const first = await migrate({ PGDATABASE: SCRATCH_DB });
  const lines = applied(first);
  assert.equal(lines[0], 'aichat-migrate: applied 001_foundation', first);
  assert.equal(lines.at(-1), APPLIED_FUNCTIONS, first);
  const health = assertJson(await api('GET', '/health'), 200);
  // Every migration file once (numbers may leave gaps), the highest the one the module requires.
  const migrations = readdirSync(join(ROOT, 'sql', 'migrations')).filter((f) => f.endsWith('.sql'));
  assert.equal(lines.length, migrations.length + 1, first);
  const last = migrations.sort().at(-1).slice(0, -'.sql'.length);
  assert.equal(lines.at(-2), `aichat-migrate: applied ${last}`, first);
  assert.equal(Number(last.slice(0, 3)), health.schema_required, `the module requires ${health.schema_required}, the newest migration is ${last}`);
  assert.match(first, new RegExp(`functions ${health.functions_required}: ${migrations.length} migration\\(s\\) and the functions applied now`));

  const second = await migrate({ PGDATABASE: SCRATCH_DB });
  assert.deepEqual(applied(second), [], second);
  assert.match(second, /nothing new, nothing applied$/m);
});

test('health names the functions the database has and those the module needs', async () => {
  const body = assertJson(await api('GET', '/health'), 200);
  assert.match(body.functions_required, /^[0-9a-f]{64}$/);
  assert.equal(body.functions, body.functions_required);
  assert.equal(body.functions, await sqlValue('SELECT digest FROM schema_functions'));
});

// A graceful restart makes new children, which check the schema again.
// Under valgrind httpd runs as one process (-X), which cannot restart so.
const oneProcess = NODES.some((node) => existsSync(`${node.state}/valgrind.pid`));

test('a database whose functions are not the module\'s is refused until aichat-migrate runs', { skip: oneProcess && 'httpd runs as one process under valgrind' }, async () => {
  const required = assertJson(await api('GET', '/health'), 200).functions_required;
  const other = '0'.repeat(64);
  tampered = true;
  await sqlValue("UPDATE schema_functions SET digest = :'p1' RETURNING digest", other);
  const mark = await errorLogsMark();
  await restartGracefully();

  // Until the old children are gone, one may still answer.
  const answers = await healthOfEachNode('outdated');
  for (const health of answers) {
    const body = assertJson(health, 503);
    assert.equal(body.database, 'outdated');
    assert.equal(body.functions_required, required);
  }
  // Under prefork an old child kept alive on a connection serves one more
  // request after the restart: the same old child as above.
  const me = await poll(() => api('GET', '/me', DEMO), (res) => res.status === 503, { tries: 20, intervalMs: 250 });
  assertError(me, 503, 'schema_outdated');

  const schema = answers[0].json.schema_required;
  const expected = `the database schema is at version ${schema} with functions ${other} but this module needs version ${schema} with functions ${required}: run aichat-migrate`;
  (await errorLogsSince(mark)).forEach((log, i) => {
    assert.ok(log.includes(expected), `the error log of ${NODES[i].name} has no line with: ${expected}\n${log.slice(-2000)}`);
  });

  const output = await migrate();
  assert.deepEqual(applied(output), [APPLIED_FUNCTIONS], output);
  tampered = false;
  for (const back of await healthOfEachNode('up')) assert.equal(assertJson(back, 200).functions, required);
  assertJson(await api('GET', '/me', DEMO), 200);
});

test('a database migrated by an aichat-migrate without schema_functions is refused until aichat-migrate runs', { skip: oneProcess && 'httpd runs as one process under valgrind' }, async () => {
  const required = assertJson(await api('GET', '/health'), 200).functions_required;
  tampered = true;
  await sqlValue('DROP TABLE schema_functions');
  const mark = await errorLogsMark();
  await restartGracefully();

  // Until the old children are gone, one may still answer (or fail on the dropped table).
  for (const health of await healthOfEachNode('outdated')) assert.equal(assertJson(health, 503).database, 'outdated');
  (await errorLogsSince(mark)).forEach((log, i) => {
    assert.match(log, new RegExp(`the database schema cannot be checked \\(.*schema_functions.*\\) but this module needs version \\d+ with functions ${required}: run aichat-migrate`), `the error log of ${NODES[i].name}`);
  });

  const output = await migrate();
  assert.deepEqual(applied(output), [APPLIED_FUNCTIONS], output);
  tampered = false;
  for (const back of await healthOfEachNode('up')) assert.equal(assertJson(back, 200).functions, required);
});
