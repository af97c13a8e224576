/**
 * Which way dependencies may point in src/ (run by `npm run lint`; tests/unit/dependency-rules.test.ts
 * proves a wrong-way import fails it). The layers, from the bottom:
 *
 *   lib/          config, logger, Redis + Lua, errors, clients (Telnyx, STT, TTS, brain): imports only lib;
 *                 each speech provider folder (stt, tts, brain) holds its port, its client and an in-memory fake
 *   media/audio/  pure DSP (codecs, filters, resampler, endpointer) and media/jitter/ (reorder buffer)
 *   media/vad/    voice activity detection, incl. the Silero worker thread
 *   media/ports.ts, media/playout/, media/conversation/, media/speech/ (a caller's speech pipeline),
 *   media/frontend/ (its front end, on worker threads), media/session/ (Telnyx media streams),
 *   media/webrtc/ (browser calls), media/live-call*.ts (a call's transport + conversation): talk out only
 *   through ports, never to jobs or api; the port and the live call know no transport implementation
 *   jobs/         queues, producers, processors: never a live call's media code
 *   api/          HTTP/WS edges: wire requests to sessions and queues
 *   composition/, runtime.ts, main.ts: the composition root, imported by nothing else
 *
 * Known exceptions are listed per rule (pathNot on `from`) with the reason, never by loosening a rule.
 */

/** Core modules that do I/O or spawn work: never in pure audio code. */
const IO_CORE_MODULES = '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|dns|child_process|worker_threads|cluster)$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles (type-only imports count too).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-imports-only-lib',
      severity: 'error',
      comment: 'src/lib is the bottom layer: it imports nothing of ours outside src/lib.',
      from: { path: '^src/lib/' },
      to: { path: '^src/', pathNot: '^src/lib/' },
    },
    {
      name: 'audio-is-pure',
      severity: 'error',
      comment:
        'src/media/audio and src/media/jitter are pure (samples and frames in, samples and frames out): they import ' +
        'only themselves, lib/errors and lib/audio — no logger, metrics, config, Redis or other media code.',
      from: { path: '^src/media/(audio|jitter)/' },
      to: { path: '^src/', pathNot: ['^src/media/(audio|jitter)/', '^src/lib/errors\\.ts$', '^src/lib/audio/'] },
    },
    {
      name: 'audio-does-no-io',
      severity: 'error',
      comment: 'Pure audio code does no file, network or thread I/O.',
      from: { path: '^src/media/(audio|jitter)/' },
      to: { dependencyTypes: ['core'], path: IO_CORE_MODULES },
    },
    {
      name: 'vad-imports-audio-and-lib',
      severity: 'error',
      comment: 'Voice activity detection builds on pure audio and lib only, not on sessions, playout or calls.',
      from: { path: '^src/media/vad/' },
      to: { path: '^src/', pathNot: ['^src/media/(vad|audio)/', '^src/lib/'] },
    },
    {
      name: 'media-never-imports-jobs-api-or-composition',
      severity: 'error',
      comment: 'Media code talks out through ports (deps passed in); queues, HTTP routes and wiring are above it.',
      from: { path: '^src/media/' },
      to: { path: '^src/(jobs|api|composition)/|^src/(runtime|main)\\.ts$' },
    },
    {
      name: 'transports-stay-apart',
      severity: 'error',
      comment:
        'The Telnyx media-stream session (media/session) and the WebRTC transport (media/webrtc) share ports, ' +
        'audio, jitter, playout and conversation code, never each other.',
      from: { path: '^src/media/(session|webrtc)/' },
      to: { path: '^src/media/(session|webrtc)/', pathNot: '^src/media/$1/' },
    },
    {
      name: 'live-call-knows-only-the-port',
      severity: 'error',
      comment:
        'A live call (phone or browser) owns its transport through the CallTransport port (media/ports.ts): neither ' +
        'the live call nor the port imports the Telnyx session or the WebRTC code (the registries built on them may).',
      from: { path: '^src/media/(live-call|ports)\\.ts$' },
      to: { path: '^src/media/(session|webrtc)/' },
    },
    {
      name: 'conversation-playout-and-speech-know-no-transport',
      severity: 'error',
      comment:
        'Conversation, playout and the speech pipeline (media/speech: front end → endpointer → STT) work for both ' +
        'transports: they never import a session or the WebRTC code.',
      from: { path: '^src/media/(conversation|playout|speech)/' },
      to: { path: '^src/media/(session|webrtc)/' },
    },
    {
      name: 'jobs-never-reach-live-calls',
      severity: 'error',
      comment: 'Queue work never reaches into a live call (media sessions, WebRTC, conversations, playout) or the HTTP edge.',
      from: { path: '^src/jobs/' },
      to: { path: '^src/(api|media|composition)/|^src/(runtime|main)\\.ts$' },
    },
    {
      name: 'api-is-imported-only-by-the-composition-root',
      severity: 'error',
      comment: 'HTTP/WS routes are edges: lib, jobs and media never import them.',
      from: { path: '^src/(lib|jobs|media)/' },
      to: { path: '^src/api/' },
    },
    {
      name: 'api-enqueues-but-does-not-process',
      severity: 'error',
      comment: 'api reaches jobs only through producers and job definitions, never processors, workers or the call flow.',
      from: { path: '^src/api/' },
      to: {
        path: '^src/jobs/',
        pathNot: ['^src/jobs/[^/]+/[^/]*(-ingest|-producer|-requester|-job)\\.ts$', '^src/jobs/queue-names\\.ts$'],
      },
    },
    {
      name: 'speech-providers-are-picked-by-the-composition-root',
      severity: 'error',
      comment:
        'STT, TTS and the brain are used through their ports (lib/stt/port.ts, lib/tts/port.ts, lib/brain/port.ts); ' +
        'only the composition root names a concrete client (and a provider folder its own).',
      from: { path: '^src/', pathNot: '^src/(composition/|lib/(stt|tts|brain)/)' },
      to: { path: '^src/lib/(stt/whisper-client|tts/kokoro-client|brain/(brain-client|local-brain))\\.ts$' },
    },
    {
      name: 'speech-fakes-stay-out-of-the-runtime',
      severity: 'error',
      comment: 'The in-memory providers (lib/*/fake-*.ts) are for tests and tools: nothing in src/ wires them in.',
      from: { path: '^src/', pathNot: '^src/lib/(stt|tts|brain)/fake-' },
      to: { path: '^src/lib/(stt|tts|brain)/fake-' },
    },
    {
      name: 'composition-root-is-imported-by-nothing-below-it',
      severity: 'error',
      comment: 'Only src/main.ts, src/runtime.ts and src/composition wire things together.',
      from: { path: '^src/', pathNot: '^src/(composition/|runtime\\.ts$|main\\.ts$)' },
      to: { path: '^src/(composition/|runtime\\.ts$|main\\.ts$)' },
    },
    {
      name: 'src-never-imports-scripts-or-tests',
      severity: 'error',
      comment: 'The shipped tree (dist/ is built from src/) stands alone: simulators, fakes and tools live outside it.',
      from: { path: '^src/' },
      to: { path: '^(scripts|tests)/' },
    },
    {
      name: 'src-never-imports-dev-dependencies',
      severity: 'error',
      comment: 'dist/ runs with production dependencies only (npm ci --omit=dev).',
      from: {
        path: '^src/',
        // Registers tsx only when the worker runs from TypeScript sources (tests, tsx); a build loads the .js.
        pathNot: '^src/media/vad/silero-worker-boot\\.js$',
      },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'no-unresolvable-imports',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too: a layer may not even name the types of a layer above it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    moduleSystems: ['cjs', 'es6'],
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'], exportsFields: ['exports'], conditionNames: ['require', 'node', 'default', 'types'] },
  },
};
