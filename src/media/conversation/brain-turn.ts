import type { BrainHistoryEntry } from '../../lib/brain/port';
import { Segmenter } from '../../lib/brain/segmenter';
import { errorMessage } from '../../lib/errors';
import { STRICT_URL_POLICY } from '../../lib/net/url-policy';
import type { ConversationDeps } from './conversation-deps';
import { PHRASES } from './phrases';
import { gateTransfer } from './transfer-gate';
import type { Turn } from './turn';
import type { TurnReport } from './turn-report';

/** What the brain's streamed answer does to the conversation's turn. */
export interface BrainTurnHooks {
  /** `t` is still the reply in progress (not dropped by a newer turn). */
  isCurrent(t: Turn): boolean;
  /** A segment cut from the stream: synthesize it. */
  requestSegment(t: Turn, text: string): void;
  /** Whole text to say (cut into segments). */
  say(t: Turn, text: string): void;
  /** The brain is done with `t`: no more segments come. */
  finished(t: Turn): void;
}

/**
 * Asks the brain for the reply of turn `t`, streamed: tokens are cut into segments as they come.
 * A transfer is checked against the tenant (gateTransfer) and kept on the turn, acted on once the
 * reply is played. An empty answer or a failure gets an apology, so the caller never hears silence.
 */
export function askBrain(
  d: ConversationDeps,
  report: TurnReport,
  t: Turn,
  ask: { transcript: string; /** The conversation before this turn. */ history: BrainHistoryEntry[] },
  hooks: BrainTurnHooks,
): void {
  const { transcript, history } = ask;
  const seg = new Segmenter({ ...d.settings.segment, timers: d.timers, onSegment: (text) => hooks.requestSegment(t, text) });
  d.brain
    .reply(
      {
        tenantId: d.tenantId,
        callControlId: d.callControlId,
        transcript,
        history,
        assistantContext: d.tenant?.assistantContext,
        transferProfiles: d.tenant?.transferProfiles,
        quickReplies: d.tenant?.quickReplies,
      },
      {
        signal: t.abort.signal,
        onToken: (tok) => {
          if (t.firstTokenAt === undefined) {
            t.firstTokenAt = d.now();
            report.observe(t, 'brain_first_token', t.firstTokenAt);
          }
          seg.push(tok);
        },
      },
    )
    .then((r) => {
      if (!hooks.isCurrent(t)) return;
      seg.end();
      if (t.texts.length === 0 && r.text.trim()) hooks.say(t, r.text);
      if (r.transfer) {
        const gated = gateTransfer(r.transfer, { ...d, urlPolicy: d.urlPolicy ?? STRICT_URL_POLICY });
        t.then = 'transfer' in gated ? { kind: 'transfer', transfer: gated.transfer } : { kind: 'transfer_refused', to: gated.refusedTo };
      }
      if (t.texts.length === 0 && !r.transfer) {
        // Nothing to say and nothing to do would leave the caller in silence.
        d.logger.warn({ callControlId: d.callControlId }, 'brain answered nothing; apologizing');
        d.metrics.turns.inc({ source: 'error' });
        hooks.say(t, PHRASES.apology);
      } else d.metrics.turns.inc({ source: r.source === 'local' ? 'local_brain' : 'brain' });
      hooks.finished(t);
    })
    .catch((err: unknown) => {
      seg.cancel();
      if (!hooks.isCurrent(t) || t.abort.signal.aborted) return;
      d.logger.warn({ callControlId: d.callControlId, err: errorMessage(err) }, 'brain failed; apologizing');
      d.metrics.turns.inc({ source: 'error' });
      // Segments already cut are (being) said and stay; text still in the segmenter is never heard.
      if (t.texts.length === 0) hooks.say(t, PHRASES.apology);
      hooks.finished(t);
    });
}
