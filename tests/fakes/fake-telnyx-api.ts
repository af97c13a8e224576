/** The Call Control API fake now lives in the Telnyx simulator (src/sim/call-control-api.ts); test names kept. */
export { startCallControlApi as startFakeTelnyxApi, CALL_ENDED_BODY } from '../../src/sim/call-control-api';
export type {
  CallControlApi as FakeTelnyxApi,
  CallControlApiOptions as FakeTelnyxApiOptions,
  ActionHook,
  CommandListener,
  PlannedFailure,
  RecordedCommand,
} from '../../src/sim/call-control-api';
