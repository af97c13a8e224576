import type { Queue } from 'bullmq';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import { PROMPT_ATTEMPTS, PROMPT_JOB, type PromptJobData } from '../tts/prompt-job';

export interface TtsDefaults {
  kokoroUrl: string;
  voice: string;
  sampleRate: number;
}

/** Resolves the TTS settings for a call: tenant `tts.*` overrides the env defaults (docs/design.md §Contracts). */
export function ttsSettingsFor(defaults: TtsDefaults, tenant?: TenantConfig): TtsDefaults & { speed?: number } {
  const t = tenant?.tts;
  return {
    kokoroUrl: t?.kokoroUrl ?? defaults.kokoroUrl,
    voice: t?.voice ?? defaults.voice,
    sampleRate: t?.sampleRate ?? defaults.sampleRate,
    speed: t?.rate,
  };
}

/** Queues a prompt for synthesis + playback on the `tts` queue. */
export class PromptSpeaker {
  constructor(
    private readonly queue: Queue,
    private readonly defaults: TtsDefaults,
  ) {}

  async say(callControlId: string, text: string, opts: { hangupAfter: boolean; tenant?: TenantConfig; clientState?: string }): Promise<void> {
    const tts = ttsSettingsFor(this.defaults, opts.tenant);
    const data: PromptJobData = {
      callControlId,
      text,
      voice: tts.voice,
      kokoroUrl: tts.kokoroUrl,
      sampleRate: tts.sampleRate,
      speed: tts.speed,
      hangupAfter: opts.hangupAfter,
      clientState: opts.clientState,
    };
    await this.queue.add(PROMPT_JOB, data, { attempts: PROMPT_ATTEMPTS, backoff: { type: 'fixed', delay: 250 } });
  }
}
