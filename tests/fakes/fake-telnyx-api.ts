/** The Call Control API fake now lives in the Telnyx simulator (scripts/sim/call-control-api.ts); test names kept. */
export { startCallControlApi as startFakeTelnyxApi, CALL_ENDED_BODY } from '../../scripts/sim/call-control-api';
export type {
  CallControlApi as FakeTelnyxApi,
  CallControlApiOptions as FakeTelnyxApiOptions,
  ActionHook,
  CommandListener,
  PlannedFailure,
  RecordedCommand,
} from '../../scripts/sim/call-control-api';
