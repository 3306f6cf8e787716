// The httpd nodes behind the test URL: the test httpd itself, or (with
// AICHAT_NODES=2) two nodes, each its own processes, shared memory and
// error log, behind a balancer that sends each request to the next node.
// Tests that read a node's own files (error log, pid) do it for every node;
// a request for one node sends `base: node.url` (see http.mjs).

import { readFile } from 'node:fs/promises';
import { withServer } from './http.mjs';
import './env.mjs';

const urls = process.env.AICHAT_NODE_URLS.split(' ');
const states = process.env.AICHAT_NODE_STATES.split(' ');
if (urls.length !== states.length) throw new Error('AICHAT_NODE_URLS and AICHAT_NODE_STATES differ in length');

/** Each node: { name, url, state }. */
export const NODES = Object.freeze(urls.map((url, i) => Object.freeze({ name: `node ${i + 1}`, url, state: states[i] })));

/** Whether the tests run against more than one node. */
export const SEVERAL_NODES = NODES.length > 1;

function errorLog(node) {
  return readFile(`${node.state}/error.log`, 'utf8');
}

/** Where each node's error log ends now, for errorLogsSince(). */
export async function errorLogsMark() {
  return Promise.all(NODES.map(async (node) => (await errorLog(node)).length));
}

/** What each node's error log gained since mark, in the order of NODES. */
export async function errorLogsSince(mark) {
  const logs = await Promise.all(NODES.map(errorLog));
  return logs.map((log, i) => log.slice(mark[i]));
}

/** A graceful restart of every node (new children; the old ones finish their requests). */
export async function restartGracefully() {
  for (const node of NODES) {
    process.kill(Number((await readFile(`${node.state}/httpd.pid`, 'utf8')).trim()), 'SIGUSR1');
  }
}

/**
 * Run fn with its requests sent to the first node only. For a test of what
 * one httpd promises: a change shows on the next request in every process
 * of the same httpd. Across nodes it shows within the bound that
 * nodes.test.mjs checks. With one node this changes nothing.
 */
export function onOneNode(fn) {
  return withServer(NODES[0].url, fn);
}
