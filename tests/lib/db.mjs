// Database helpers: run SQL through psql as the database owner (the PG*
// variables from the environment select server, database and role).
//
// Values are never spliced into SQL text: sql(text, a, b) passes them as psql
// variables p1, p2, … which the text refers to as :'p1', :'p2' (psql quotes
// them as literals). psql interpolates variables only in SQL read from a
// script, not in `-c`, so the text goes to psql's standard input.

import { spawn } from 'node:child_process';
import './env.mjs';

// Separators that cannot occur in the values the tests read, so a display
// name containing '|' or a newline does not break a row apart.
const FIELD_SEP = '\x1f';
const RECORD_SEP = '\x1e';
const NULL_MARK = '\x1a';

function psqlValue(value, index) {
  if (value === null || value === undefined) {
    throw new Error(`sql(): parameter p${index + 1} is ${value}; write NULL in the SQL text instead`);
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Run SQL (one or more statements) and return the rows of the last result
 * as arrays of strings, SQL NULL as null. Rejects with psql's error text
 * (which contains "ERROR:") when a statement fails.
 *
 *   const rows = await sql("SELECT id, role FROM users WHERE username = :'p1'", 'demo');
 */
export function sql(text, ...params) {
  const args = [
    '-X', '-A', '-t', '-q',
    '-v', 'ON_ERROR_STOP=1',
    '-F', FIELD_SEP,
    '-R', RECORD_SEP,
    '-P', `null=${NULL_MARK}`,
  ];
  params.forEach((value, i) => args.push('-v', `p${i + 1}=${psqlValue(value, i)}`));

  return new Promise((resolve, reject) => {
    const child = spawn('psql', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`psql failed (${signal ?? `exit ${code}`}): ${stderr.trim()}\nSQL: ${text}`));
        return;
      }
      resolve(parseRows(stdout));
    });
    child.stdin.end(text.trimEnd().endsWith(';') ? text : `${text};`);
  });
}

function parseRows(out) {
  if (out === '') return [];
  const body = out.endsWith('\n') ? out.slice(0, -1) : out;
  return body
    .split(RECORD_SEP)
    .map((record) => record.split(FIELD_SEP).map((field) => (field === NULL_MARK ? null : field)));
}

/** First column of the first row, or undefined when there is no row. */
export async function sqlValue(text, ...params) {
  const rows = await sql(text, ...params);
  return rows.length === 0 ? undefined : rows[0][0];
}

/**
 * Rows of a SELECT as plain objects with JSON types (numbers, booleans,
 * null, nested objects for jsonb), via PostgreSQL's own JSON conversion.
 *
 *   const [row] = await sqlJson("SELECT role, is_active FROM users WHERE username = :'p1'", 'demo');
 */
export async function sqlJson(select, ...params) {
  const text = `SELECT coalesce(json_agg(q), '[]') FROM (${select.trim().replace(/;$/, '')}) q`;
  return JSON.parse(await sqlValue(text, ...params));
}

/** The users row for a username as an object, or undefined when there is none. */
export async function dbUser(username) {
  const rows = await sqlJson(
    `SELECT id, username, display_name, email, role, is_active, token_credits
       FROM users WHERE username = :'p1'`,
    username,
  );
  return rows[0];
}

/**
 * Run body while httpd's role may not execute the function `signature`
 * (`name(argtype, …)`): the database fails that statement, and only that
 * one. The right is given back however body ends; body's result is returned.
 */
export async function withoutExecute(signature, body) {
  await sql(`REVOKE EXECUTE ON FUNCTION ${signature} FROM PUBLIC`);
  try {
    return await body();
  } finally {
    await sql(`GRANT EXECUTE ON FUNCTION ${signature} TO PUBLIC`);
  }
}

/**
 * Run body while a transaction of its own has run statement (with params as
 * in sql()) and holds the locks it took; rolled back however body ends;
 * body's result is returned.
 */
export async function whileHeld(statement, params, body) {
  const args = ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1'];
  params.forEach((value, i) => args.push('-v', `p${i + 1}=${psqlValue(value, i)}`));
  const child = spawn('psql', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const closed = new Promise((resolve) => child.on('close', resolve));
  child.stdin.on('error', () => {}); // psql gone already: its exit says why
  const held = new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      if (out.includes('-- held --')) resolve();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => (err += chunk));
    closed.then((code) => reject(new Error(`psql ended (exit ${code}) before holding: ${err.trim()}\nSQL: ${statement}`)));
  });
  child.stdin.write(`BEGIN;\n${statement.trim().replace(/;$/, '')};\n\\echo '-- held --'\n`);
  try {
    await held;
    return await body();
  } finally {
    child.stdin.end('ROLLBACK;\n');
    await closed;
  }
}
