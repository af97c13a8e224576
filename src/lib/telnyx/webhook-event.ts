import { z } from 'zod';

/** Longest id-like string we keep (Telnyx ids are ~100 characters; call_control_id `v3:` + base64). */
const ID_MAX = 500;
/** Phone numbers and SIP URIs of `from`/`to`. */
const ADDRESS_MAX = 256;
/** `client_state` is base64 of what we sent (a few dozen bytes); 4 KB is the Telnyx limit with room. */
const CLIENT_STATE_MAX = 4096;

const id = z.string().min(1).max(ID_MAX);
const short = (max: number) => z.string().max(max).optional().catch(undefined);

/**
 * Telnyx Call Control webhook envelope. Only the fields the runtime uses are checked, and only those are kept:
 * everything else a sender adds (of any size or depth) is dropped before the event is stored, so a
 * stored event is small, flat and always serializable. A wrong type in an optional field we only
 * read is treated as absent (`.catch(undefined)`); the fields the runtime relies on must be right.
 */
export const telnyxEnvelopeSchema = z.object({
  data: z.object({
    event_type: z.string().min(1).max(128),
    id,
    occurred_at: short(64),
    record_type: short(64),
    payload: z
      .object({
        call_control_id: id.optional(),
        call_leg_id: short(ID_MAX),
        call_session_id: short(ID_MAX),
        connection_id: short(ID_MAX),
        direction: short(32),
        from: short(ADDRESS_MAX),
        to: short(ADDRESS_MAX),
        state: short(64),
        client_state: z.string().max(CLIENT_STATE_MAX).nullable().optional().catch(undefined),
        hangup_cause: short(128),
        hangup_source: short(64),
        /** call.dtmf.received */
        digit: short(8),
        /** streaming.failed */
        failure_reason: short(512),
        stream_id: short(ID_MAX),
        /** call.answered: what Telnyx negotiated for the stream. */
        codec: short(32),
        sampling_rate: z.number().int().min(0).max(192_000).optional().catch(undefined),
        /** call.playback.*: the URL we asked for (correlation). */
        media_url: short(2048),
        status: short(64),
      })
      .default({}),
  }),
  meta: z
    .object({ attempt: z.number().int().min(0).max(1_000_000).optional().catch(undefined), delivered_to: short(2048) })
    .optional()
    .catch(undefined),
});

export type TelnyxEnvelope = z.output<typeof telnyxEnvelopeSchema>;
export type TelnyxEvent = TelnyxEnvelope['data'];
