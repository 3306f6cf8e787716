// The test environment, as `scripts/dev test` provides it. Importing this
// module fails at once, naming every missing variable, rather than letting a
// test fail later with a confusing connection error.

const REQUIRED = {
  AICHAT_URL: 'base URL of the test httpd, e.g. http://127.0.0.1:18080',
  AICHAT_ROOT: 'absolute path of the repository root',
  AICHAT_DEV: 'absolute path of scripts/dev (db-stop / db-start)',
  AICHAT_NODE_URLS: 'base URL of each httpd node, space-separated (the test httpd itself when there is one)',
  AICHAT_NODE_STATES: "each node's state folder (its httpd.pid, error.log), in the same order",
  PGHOST: 'PostgreSQL host or socket directory for psql',
  PGPORT: 'PostgreSQL port for psql',
  PGDATABASE: 'the test database',
  PGUSER: 'the database owner role (aichat)',
};

const missing = Object.keys(REQUIRED).filter((name) => !process.env[name]);
if (missing.length > 0) {
  throw new Error(
    'integration tests need these environment variables (run them through `scripts/dev test`):\n' +
      missing.map((name) => `  ${name}: ${REQUIRED[name]}`).join('\n'),
  );
}

let baseUrl;
try {
  baseUrl = new URL(process.env.AICHAT_URL);
} catch {
  throw new Error(`AICHAT_URL is not a URL: ${JSON.stringify(process.env.AICHAT_URL)}`);
}

/** Base URL of the server without a trailing slash, e.g. http://127.0.0.1:18080 */
export const BASE_URL = process.env.AICHAT_URL.replace(/\/+$/, '');

/** The server's own origin, what a browser sends as `Origin` from our pages. */
export const ORIGIN = baseUrl.origin;

/** Host name the tests connect to (the address the server sees us from). */
export const HOSTNAME = baseUrl.hostname;

export const ROOT = process.env.AICHAT_ROOT;
export const DEV = process.env.AICHAT_DEV;

/** The mock LLM provider's URL; only capability tests that chat need it. */
export function mockUrl() {
  const url = process.env.AICHAT_MOCK_URL;
  if (!url) throw new Error('AICHAT_MOCK_URL is not set (run the tests through `scripts/dev test`)');
  return url.replace(/\/+$/, '');
}

/** Credits the test server grants a user it provisions (AIChatDefaultCredits). */
export const DEFAULT_CREDITS = 500;

/** The test server's AIChatMaxBodySize, in bytes. */
export const MAX_BODY_SIZE = 65536;
