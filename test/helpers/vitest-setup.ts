// vitest setupFiles entry (every project): one cleanup scope per test file (see scope.ts). Opened
// when the file's modules load, so even module-level mkdtemp calls land in it; closed by the last
// afterAll (after-hooks run in reverse order, so the file's own afterAll stops its daemons first),
// which ends whatever is still running and removes the scope directory, pass or fail.
import { tmpdir } from 'node:os';
import { afterAll } from 'vitest';
import { closeScope, openScope, RUN_ROOT_ENV } from './scope.js';
import { closeFixtureSigningKey } from './signing.js';

const previousTmp = process.env.TMPDIR;
// Without the global setup (a helper script running vitest's API itself) the scope lives in the temp dir.
const scope = await openScope(process.env[RUN_ROOT_ENV] ?? tmpdir());

afterAll(async () => {
  // The fixture release key's gpg-agent is the file's own: stop it rather than leave it to the sweep.
  await closeFixtureSigningKey();
  const pids = await closeScope(scope, previousTmp);
  // A leak is the test's bug, but not a failure of its assertions: say so where the output is read.
  if (pids.length > 0) console.warn(`test cleanup: ended ${pids.length} process(es) the test file left running: ${pids.join(', ')}`);
});
