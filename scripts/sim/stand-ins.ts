/**
 * Local stand-ins for the speech services, for the demo and the load test (NOT models):
 * - STT: a Whisper-compatible server that recognizes only the bundled caller utterances (by the
 *   shape of their energy envelope) and answers with their scripted line; anything else → "".
 * - TTS: a Kokoro-compatible server speaking with espeak-ng when installed, else a 440 Hz tone
 *   (60 ms per character).
 * - brain: an SSE brain answering from a small script (scripts/sim/script.ts), token by token.
 */
import { startBrainServer, type BrainServer } from './brain';
import { startKokoroServer, type KokoroServer } from './kokoro';
import { SCRIPTED_AGENT_LINES, scriptedReply } from './script';
import { createUtteranceMatcher, espeakAvailable, espeakSynthesize, loadBundledSpeech, type UtteranceMatch } from './speech';
import { startWhisperServer, type WhisperServer } from './whisper';

export interface StandInsOptions {
  /** TTS engine: espeak-ng, the tone, or espeak-ng when installed (default). */
  tts?: 'espeak' | 'tone' | 'auto';
  /** espeak-ng voice and speed of the agent (default en-us+f3 at 175 wpm). */
  voice?: string;
  wpm?: number;
  /** Tone length per character when speaking with the tone (default 60 ms). */
  toneMsPerChar?: number;
  /** Delay between the brain's tokens (default 10 ms). */
  brainTokenDelayMs?: number;
  host?: string;
  /** Fixed ports (default: any free port). */
  ports?: { whisper?: number; kokoro?: number; brain?: number };
  /** Keep at most this many recorded requests per server and STT answers (default 200; brain replies are all kept). */
  maxRecorded?: number;
  /** Synthesize the scripted agent lines (greeting, replies, by sentence) before answering anything. */
  prewarm?: boolean;
}

export interface SttAnswerRecord {
  at: number;
  /** What the caller has said of the line so far (the answer itself, for audio sent with a prompt, is only the rest). */
  text: string;
  match?: UtteranceMatch;
  audioMs: number;
}

export interface StandIns {
  whisper: WhisperServer;
  kokoro: KokoroServer;
  brain: BrainServer;
  tts: 'espeak-ng' | 'tone';
  /** What the STT stand-in answered, in order. */
  sttAnswers: SttAnswerRecord[];
  /** What the brain stand-in answered, by request (same order as brain.requests). */
  brainReplies: { at: number; callControlId: string; transcript: string; reply: string }[];
  close(): Promise<void>;
}

export async function startStandIns(opts: StandInsOptions = {}): Promise<StandIns> {
  const speech = loadBundledSpeech();
  const match = createUtteranceMatcher(speech.utterances);
  const sttAnswers: SttAnswerRecord[] = [];
  const brainReplies: StandIns['brainReplies'] = [];
  const maxRecorded = opts.maxRecorded ?? 200;
  const keep = <T>(list: T[]) => {
    if (list.length > maxRecorded) list.splice(0, list.length - maxRecorded);
  };
  const useEspeak = opts.tts === 'espeak' || (opts.tts !== 'tone' && espeakAvailable());
  if (opts.tts === 'espeak' && !espeakAvailable()) throw new Error('espeak-ng is not installed (apt-get install -y espeak-ng)');

  const synthCache = new Map<string, Promise<{ samples: Int16Array; sampleRate: number }>>();
  const synthesize = (text: string, speed: number) => {
    const key = `${speed}|${text}`;
    let p = synthCache.get(key);
    if (!p) {
      p = espeakSynthesize(text, { voice: opts.voice ?? 'en-us+f3', wpm: (opts.wpm ?? 175) * speed });
      p.catch(() => synthCache.delete(key));
      synthCache.set(key, p);
    }
    return p;
  };

  const whisper = await startWhisperServer({
    host: opts.host,
    port: opts.ports?.whisper,
    maxRecorded,
    respond: (wav, req) => {
      const m = match(wav.samples, wav.sampleRate, req.prompt);
      sttAnswers.push({ at: Date.now(), text: m?.sofar ?? '', match: m, audioMs: wav.durationMs });
      keep(sttAnswers);
      return m?.text ?? '';
    },
  });
  if (useEspeak && opts.prewarm) {
    const sentences = SCRIPTED_AGENT_LINES.flatMap((l) => l.match(/[^.!?]+[.!?]+/g)?.map((x) => x.trim()) ?? [l]);
    await Promise.all([...SCRIPTED_AGENT_LINES, ...sentences].map((t) => synthesize(t, 1).catch(() => undefined)));
  }
  const kokoro = await startKokoroServer({
    host: opts.host,
    port: opts.ports?.kokoro,
    maxRecorded,
    toneMsPerChar: opts.toneMsPerChar,
    cacheResponses: true,
    ...(useEspeak ? { synthesize } : {}),
  });
  const brain = await startBrainServer({
    mode: 'sse',
    host: opts.host,
    port: opts.ports?.brain,
    maxRecorded,
    script: (body) => {
      const transcript = typeof body.transcript === 'string' ? body.transcript : '';
      const reply = scriptedReply(transcript);
      brainReplies.push({ at: Date.now(), callControlId: String(body.callControlId ?? ''), transcript, reply });
      return { tokens: reply.split(/(?<= )/), tokenDelayMs: opts.brainTokenDelayMs ?? 10 };
    },
  });
  return {
    whisper,
    kokoro,
    brain,
    tts: useEspeak ? 'espeak-ng' : 'tone',
    sttAnswers,
    brainReplies,
    async close() {
      await Promise.all([whisper.close(), kokoro.close(), brain.close()]);
    },
  };
}
