// The fault suite's driver: runs the scenarios named on the command line (all
// when none is), each in its own module, and exits 1 when any figure missed
// its target. Run through bench/faults/run, which starts the server.

import { anyFailed } from './lib.mjs';

const SCENARIOS = ['restart', 'provider', 'leave', 'memory'];
const names = process.argv.slice(2);
const unknown = names.filter((n) => !SCENARIOS.includes(n));
if (unknown.length) {
  console.error(`bench/faults: unknown scenario ${unknown.join(', ')} (choose from ${SCENARIOS.join(', ')})`);
  process.exit(2);
}
for (const name of names.length ? names : SCENARIOS) {
  const started = new Date();
  console.log(`faults ${name}: started ${started.toISOString()}`);
  await (await import(`./${name}.mjs`)).default();
}
console.log(`bench/faults: ${anyFailed() ? 'FAILED' : 'PASSED'}`);
process.exit(anyFailed() ? 1 : 0);
