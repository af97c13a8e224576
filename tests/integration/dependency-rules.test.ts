/**
 * The layer rules in .dependency-cruiser.js (run by `npm run lint`) catch wrong-way imports. Each case
 * below writes a tiny tree with one forbidden import into a temp copy of the repo's config — never into
 * src/ — and checks depcruise reports exactly that rule for that file.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
const DEPCRUISE = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

async function cruise(cwd: string): Promise<Violation[]> {
  // depcruise exits non-zero when it finds violations; the JSON report is on stdout either way.
  const out = await run(process.execPath, [DEPCRUISE, 'src', '--config', '.dependency-cruiser.js', '--output-type', 'json'], {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string }) => {
    if (!err.stdout) throw new Error(`depcruise failed: ${err.stderr ?? String(err)}`);
    return { stdout: err.stdout };
  });
  return (JSON.parse(out.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

/** file → its source; every file not listed is created empty by the imports that name it. */
const TREE: Record<string, string> = {
  'src/api/edge.ts': 'export const edge = 1;\n',
  'src/lib/errors.ts': 'export const errors = 1;\n',
  'src/lib/logger.ts': 'export const logger = 1;\n',
  'src/media/session/live.ts': 'export const live = 1;\n',
  'src/jobs/tts/prompt-processor.ts': 'export const processor = 1;\n',
  'src/jobs/events/event-ingest.ts': 'export const ingest = 1;\n',
  'scripts/sim/fake.ts': 'export const fake = 1;\n',
  'src/lib/stt/port.ts': 'export const port = 1;\n',
  'src/lib/stt/whisper-client.ts': 'export const client = 1;\n',
  'src/lib/brain/fake-brain.ts': 'export const fakeBrain = 1;\n',

  // Allowed: lib → lib, api → a producer, audio → lib/errors, session → its own folder.
  'src/lib/good.ts': "import { errors } from './errors';\nexport const good = errors;\n",
  'src/api/good-api.ts': "import { ingest } from '../jobs/events/event-ingest';\nexport const ok = ingest;\n",
  'src/media/audio/good-audio.ts': "import { errors } from '../../lib/errors';\nexport const ok = errors;\n",
  'src/media/session/good-session.ts': "import { live } from './live';\nexport const ok = live;\n",
  'src/media/session/good-port.ts': "import { port } from '../../lib/stt/port';\nexport const ok = port;\n",
  'src/composition/good-client.ts': "import { client } from '../lib/stt/whisper-client';\nexport const ok = client;\n",

  // Forbidden, one rule each.
  'src/lib/bad-lib.ts': "import { edge } from '../api/edge';\nexport const bad = edge;\n",
  'src/media/audio/bad-audio.ts': "import { logger } from '../../lib/logger';\nexport const bad = logger;\n",
  'src/media/audio/bad-io.ts': "import { readFileSync } from 'node:fs';\nexport const bad = readFileSync;\n",
  'src/jobs/bad-job.ts': "import { live } from '../media/session/live';\nexport const bad = live;\n",
  'src/media/webrtc/bad-transport.ts': "import { live } from '../session/live';\nexport const bad = live;\n",
  'src/lib/bad-sim.ts': "import { fake } from '../../scripts/sim/fake';\nexport const bad = fake;\n",
  'src/lib/cycle-a.ts': "import { b } from './cycle-b';\nexport const a = () => b;\n",
  'src/lib/cycle-b.ts': "import { a } from './cycle-a';\nexport const b = () => a;\n",
  'src/api/bad-api.ts': "import { processor } from '../jobs/tts/prompt-processor';\nexport const bad = processor;\n",
  'src/lib/bad-dev.ts': "import { register } from 'tsx/cjs/api';\nexport const bad = register;\n",
  'src/media/live-call.ts': "import { live } from './session/live';\nexport const bad = live;\n",
  'src/media/session/bad-client.ts': "import { client } from '../../lib/stt/whisper-client';\nexport const bad = client;\n",
  'src/composition/bad-fake.ts': "import { fakeBrain } from '../lib/brain/fake-brain';\nexport const bad = fakeBrain;\n",
  'src/media/speech/bad-speech.ts': "import { live } from '../session/live';\nexport const bad = live;\n",
};

const EXPECTED: Record<string, string> = {
  'src/lib/bad-lib.ts': 'lib-imports-only-lib',
  'src/media/audio/bad-audio.ts': 'audio-is-pure',
  'src/media/audio/bad-io.ts': 'audio-does-no-io',
  'src/jobs/bad-job.ts': 'jobs-never-reach-live-calls',
  'src/media/webrtc/bad-transport.ts': 'transports-stay-apart',
  'src/lib/bad-sim.ts': 'src-never-imports-scripts-or-tests',
  'src/lib/cycle-a.ts': 'no-circular',
  'src/api/bad-api.ts': 'api-enqueues-but-does-not-process',
  'src/lib/bad-dev.ts': 'src-never-imports-dev-dependencies',
  'src/media/live-call.ts': 'live-call-knows-only-the-port',
  'src/media/session/bad-client.ts': 'speech-providers-are-picked-by-the-composition-root',
  'src/composition/bad-fake.ts': 'speech-fakes-stay-out-of-the-runtime',
  'src/media/speech/bad-speech.ts': 'conversation-playout-and-speech-know-no-transport',
};

describe('layer rules (.dependency-cruiser.js)', () => {
  let dir: string;
  let violations: Violation[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'layer-rules-'));
    for (const f of ['.dependency-cruiser.js', 'package.json', 'tsconfig.json', 'tsconfig.test.json']) copyFileSync(path.join(ROOT, f), path.join(dir, f));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    for (const [file, text] of Object.entries(TREE)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    violations = await cruise(dir);
  });

  afterAll(() => {
    // rmSync removes the node_modules symlink itself, never what it points to.
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(Object.entries(EXPECTED))('%s breaks %s', (file, rule) => {
    const names = violations.filter((v) => v.from === file).map((v) => v.rule.name);
    expect(names).toContain(rule);
  });

  it('reports nothing for imports that point the right way', () => {
    const good = violations.filter((v) => /\/good[^/]*\.ts$/.test(v.from) || /\/good[^/]*\.ts$/.test(v.to));
    expect(good).toEqual([]);
  });

  it('the real src/ tree follows every rule', async () => {
    expect(await cruise(ROOT)).toEqual([]);
  });
});
