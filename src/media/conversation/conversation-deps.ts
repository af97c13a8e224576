import type { Brain, BrainHistoryEntry } from '../../lib/brain/port';
import type { CallSnapshot } from '../../lib/calls/call-snapshot';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { UrlPolicy } from '../../lib/net/url-policy';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import type { Timers } from '../../lib/timers';
import type { AgentVoice } from './agent-voice';
import type { CallCommands } from './url-voice';

/** Asks for one segment's synthesis; the result comes back through `onTtsReady/onTtsFailed`. */
export interface SegmentSynth {
  request(turnId: number, index: number, text: string): Promise<string | undefined>;
  cancel(jobIds: string[]): Promise<void>;
}

export interface SpeechControl {
  /** The caller is talking right now (VAD). */
  inSpeech(): boolean;
  /** Our playback ended (ingest health then expects caller audio to keep flowing). */
  playbackEnded?(): void;
}

export interface HistoryStore {
  addUser(text: string): void;
  addAssistant(text: string): void;
  addSystem(text: string): void;
  entries(): BrainHistoryEntry[];
  /** Replaces the history (a call restored from its snapshot on another instance). */
  restore(entries: readonly BrainHistoryEntry[]): void;
}

export interface ConversationSettings {
  greeting: string;
  deadAirMs: number;
  /** Unanswered "Are you still there?" prompts before saying goodbye. */
  maxDeadAirPrompts: number;
  segment: { firstMinChars: number; nextMaxChars: number; firstAudioMaxMs: number; firstClauseMinChars?: number };
  /** After a barge-in, speech still going on this long confirms the interruption (else: backchannel). */
  backchannelMaxMs: number;
  /**
   * TURN_END_MODE=transcript: speech still going on at backchannelMaxMs does not confirm the
   * interruption; its transcript does (a backchannel resumes the reply, anything else is the
   * caller's turn), or interruptionVerdictMs later whatever is still speaking.
   */
  backchannelByTranscript?: boolean;
  /**
   * After a short barge-in, how long to wait for its transcript before resuming the reply anyway
   * (a filler-only or empty transcript is dropped by the speech pipeline: no verdict ever comes).
   * Default 3000.
   */
  interruptionVerdictMs?: number;
  /**
   * TURN_SPECULATIVE_REPLY: on a tentative end of turn, start the reply (brain, first TTS segments)
   * before the turn is certain; play it if the final has the same words, drop it if the caller goes
   * on. Default true (only a transcript-based end of turn produces tentative ends).
   */
  speculate?: boolean;
}

export interface ConversationDeps {
  callControlId: string;
  tenantId: string;
  tenant?: TenantConfig;
  /** What a brain transfer's audioUrl may name (TENANT_URL_ALLOWED_HOSTS); default: no host allowlisted. */
  urlPolicy?: UrlPolicy;
  voice: AgentVoice;
  brain: Brain;
  synth: SegmentSynth;
  commands: CallCommands;
  speech: SpeechControl;
  history: HistoryStore;
  settings: ConversationSettings;
  metrics: Metrics;
  logger: Logger;
  now(): number;
  /** Dead air, barge-in verdict and DTMF timers; default: real (unref'd) timers. */
  timers?: Timers;
  /**
   * The call moved here from another instance: start() picks the conversation up from this snapshot
   * instead of greeting.
   */
  resumeFrom?: CallSnapshot;
  /** Told the conversation's state at every turn boundary (stored so another instance can go on). */
  checkpoint?(snapshot: CallSnapshot): void;
}
