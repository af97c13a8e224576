/**
 * The /hd-call page in a real browser: Debian's chromium (headless) driven by playwright-core,
 * its microphone fed from a bundled espeak utterance (--use-file-for-fake-audio-capture), talking
 * over real WebRTC to a runtime in this process (real Redis, real HTTP); Whisper, brain and Kokoro
 * are the project's fakes. Set HD_CALL_SCREENSHOT=<file.png> to save the page mid-call
 * (docs/hd-call.png was made that way).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { Capacity, webrtcCapacityPrefix } from '../../src/lib/capacity';
import { mintJoinToken } from '../../src/lib/webrtc/join-token';
import { buildWav } from '../../src/lib/audio/wav';
import { resample } from '../../scripts/sim/audio';
import { createUtteranceMatcher, fixturePath, loadBundledSpeech } from '../../scripts/sim/speech';
import type { Runtime } from '../../src/runtime';
import { startFakeBrain, type FakeBrain } from '../fakes/fake-brain';
import { startFakeWhisper, type FakeWhisper } from '../fakes/fake-whisper';
import { createHarness, tenantDoc, waitUntil, type Harness } from '../support/call-harness';
import { freePort } from '../support/redis-server';

const CHROMIUM = '/usr/bin/chromium';
const TENANT = 'browser-hd';
const GREETING = 'Hi, this is the HD line. How can I help?';
const REPLY = 'Of course. Next Tuesday at ten is free for a cleaning.';
/** Fake microphone: silence while the greeting plays, the first bundled caller line, then silence long enough to end the turn and hear the reply. */
const LEAD_MS = 5000;
const TAIL_MS = 12_000;
/** The tenant lets only its own web site place calls: the link carries a join token. */
const JOIN_SECRET = 'browser-hd-join-secret-0123456789';

describe('/hd-call in chromium', () => {
  let h: Harness;
  let rt: Runtime;
  let whisper: FakeWhisper;
  let brain: FakeBrain;
  let browser: BrowserContext;
  let dir: string;
  let origin: string;
  let browserCalls: Capacity;
  const speech = loadBundledSpeech();
  const match = createUtteranceMatcher(speech.utterances);
  const heard: (string | undefined)[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (.ci/run does)`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'hd-call-'));
    const caller = resample(speech.pcmAt(0, 16000), 16000, 48000);
    const mic = new Int16Array(((LEAD_MS + TAIL_MS) * 48) + caller.length);
    mic.set(caller, LEAD_MS * 48);
    const micWav = path.join(dir, 'mic.wav');
    writeFileSync(micWav, buildWav(mic, 48000));
    expect(existsSync(fixturePath(0))).toBe(true);

    whisper = await startFakeWhisper({
      // Audio that continues an utterance comes with its words so far as the prompt (incremental transcription).
      respond: (wav, req) => {
        const m = match(wav.samples, wav.sampleRate, req.prompt);
        heard.push(m?.sofar);
        return m?.text ?? '';
      },
    });
    brain = await startFakeBrain({ mode: 'sse', script: () => ({ tokens: REPLY.split(/(?<= )/), tokenDelayMs: 5 }) });
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    h = await createHarness({
      PORT: String(port),
      AUDIO_PUBLIC_BASE_URL: `${origin}/audio`,
      TRANSPORT_MODE: 'webrtc_hd',
      WEBRTC_ALLOWED_ORIGINS: origin,
      WHISPER_URL: whisper.transcriptionsUrl,
      BRAIN_URL: brain.url,
      STT_SILENCE_MS: '600',
      STT_PARTIAL_MIN_MS: '60000',
      DEAD_AIR_MS: '30000',
    });
    rt = await h.start();
    await h.seedTenant(
      TENANT,
      '+15558880000',
      tenantDoc(TENANT, '+15558880000', { greeting: GREETING, tts: { mode: 'kokoro_http', sampleRate: 24000 }, webrtc: { requireJoinToken: true, joinTokenSecret: JOIN_SECRET } }),
    );
    browserCalls = new Capacity({ redis: h.redis, prefix: webrtcCapacityPrefix(h.env.CAP_PREFIX!) });
    // A fresh profile per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${micWav}%noloop`,
        '--autoplay-policy=no-user-gesture-required',
        // Nothing leaves this machine: no update checks, sync, QUIC probes, or mDNS-hidden candidates.
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        '--disable-features=WebRtcHideLocalIpsWithMdns',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await whisper?.close();
    await brain?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('calls from the page: the fixture speech reaches Whisper, the reply shows and plays', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const token = mintJoinToken({ secret: JOIN_SECRET, tenantId: TENANT, origin });
    await page.goto(`${rt.url}/hd-call?tenant_id=${TENANT}&join_token=${encodeURIComponent(token)}`);
    await page.waitForSelector('#start:not([disabled])');
    expect(await page.textContent('#tenant')).toBe(TENANT);
    await page.click('#start');

    // Connected, greeted: the status line follows the agent, the greeting is transcribed on the page.
    await page.locator('#status[data-state="agent_speaking"]').waitFor({ timeout: 15_000 });
    // One line per spoken segment (sentence).
    await page.locator('#transcript li.agent', { hasText: 'Hi, this is the HD line.' }).waitFor({ timeout: 10_000 });
    expect((await browserCalls.usage(TENANT)).tenant).toBe(1);
    // A browser call never holds a phone slot.
    expect((await rt.capacity.usage(TENANT)).tenant).toBe(0);

    // The microphone (the bundled espeak utterance) reaches the fake Whisper through the STT front end.
    await waitUntil(() => heard.includes(speech.utterances[0]!.text), 30_000, 100);
    await waitUntil(() => brain.requests.length >= 1, 10_000);
    expect(brain.requests[0]!.body).toMatchObject({ tenantId: TENANT, transcript: speech.utterances[0]!.text });
    await page.locator('#transcript li.caller', { hasText: speech.utterances[0]!.text }).waitFor({ timeout: 10_000 });
    await page.locator('#transcript li.agent', { hasText: 'Of course.' }).first().waitFor({ timeout: 15_000 });

    // Agent audio arrives in the page: the WebAudio analyser on the remote track saw a level.
    await page.waitForFunction("Number(document.querySelector('#agent-level').dataset.peak) > 0.01", undefined, { timeout: 10_000 });
    expect(Number(await page.getAttribute('#mic-level', 'data-peak'))).toBeGreaterThan(0.01);

    const shot = process.env.HD_CALL_SCREENSHOT;
    if (shot) {
      await page.setViewportSize({ width: 720, height: 760 });
      await page.screenshot({ path: shot, fullPage: true });
    }

    // Hang up from the page: the slot is released and the page says so.
    await page.click('#hangup');
    await waitUntil(async () => (await browserCalls.usage(TENANT)).tenant === 0, 5000);
    expect(await page.getAttribute('#status', 'data-state')).toBe('ended');
    expect(await page.isDisabled('#hangup')).toBe(true);
    expect(errors).toEqual([]);
  });
});
