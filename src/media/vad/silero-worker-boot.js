'use strict';
// Plain-JS entry of the runtime's worker threads (Silero VAD, speech front end; see worker-thread.ts).
// In a build it loads the compiled worker module; when the runtime runs from TypeScript sources
// (tsx, jest) it registers tsx in this thread first, since loaders are per thread.
const { workerData } = require('node:worker_threads');

const entry = workerData.entry;
if (entry.endsWith('.ts') && !require.extensions['.ts']) require('tsx/cjs/api').register();
require(entry);
