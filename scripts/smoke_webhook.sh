#!/usr/bin/env bash
# Sends signed sample call events to a running runtime (docs/testing.md §Smoke tests): call.initiated,
# call.answered and call.hangup for one call_control_id, signed with the local HMAC scheme
# (header telnyx-signature = base64(HMAC-SHA256(TELNYX_WEBHOOK_SECRET, "<timestamp>.<raw body>"))).
# Prints each status and response; exits 1 when any event is not acknowledged with 2xx.
#
# Environment (TELNYX_WEBHOOK_SECRET and PORT are also read from ./.env, or ENV_FILE, when unset):
#   TELNYX_WEBHOOK_SECRET  required; the runtime must have the same secret and TELNYX_WEBHOOK_HMAC_ENABLED=true
#                          (a development switch: production refuses it and accepts only Telnyx's Ed25519)
#   WEBHOOK_URL            default http://localhost:${PORT:-3000}/v1/telnyx/webhook
#   CALL_CONTROL_ID        default smoke_<time>_<random> (reuse it with scripts/smoke_media_ws.js)
#   TO_NUMBER              dialled number, default +15551234567 (map it: npm run tenant -- add …)
#   FROM_NUMBER            caller number, default +15550001111
#   EVENTS                 events to send, default "call.initiated call.answered call.hangup"
#                          (e.g. EVENTS="call.initiated call.answered" keeps the call up for the media smoke test)
#   SMOKE_DELAY            seconds between events, default 0.3
set -euo pipefail

here="${BASH_SOURCE[0]%/*}"
[ "$here" = "${BASH_SOURCE[0]}" ] && here=.
# shellcheck source=lib/dotenv.sh
source "$here/lib/dotenv.sh"
dotenv_default TELNYX_WEBHOOK_SECRET
dotenv_default PORT

die() {
  echo "smoke_webhook: $*" >&2
  exit 1
}

[ -n "${TELNYX_WEBHOOK_SECRET:-}" ] || die "TELNYX_WEBHOOK_SECRET is not set (export TELNYX_WEBHOOK_SECRET=devsecret, the same value the runtime uses; the runtime also needs TELNYX_WEBHOOK_HMAC_ENABLED=true)"
command -v node >/dev/null 2>&1 || die "node is required (it computes the HMAC signature)"

WEBHOOK_URL="${WEBHOOK_URL:-http://localhost:${PORT:-3000}/v1/telnyx/webhook}"
CALL_CONTROL_ID="${CALL_CONTROL_ID:-smoke_$(date +%s)_$RANDOM}"
TO_NUMBER="${TO_NUMBER:-+15551234567}"
FROM_NUMBER="${FROM_NUMBER:-+15550001111}"
EVENTS="${EVENTS:-call.initiated call.answered call.hangup}"
SMOKE_DELAY="${SMOKE_DELAY:-0.3}"

# Values are spliced into JSON: refuse quotes, backslashes and control characters.
for var in CALL_CONTROL_ID TO_NUMBER FROM_NUMBER WEBHOOK_URL; do
  if [[ "${!var}" =~ [\"\\[:cntrl:]] ]]; then die "$var must not contain quotes, backslashes or control characters"; fi
done

uuid() {
  printf '%04x%04x-%04x-4%03x-%04x-%04x%04x%04x' $RANDOM $RANDOM $RANDOM $((RANDOM & 0xfff)) $(((RANDOM & 0x3fff) | 0x8000)) $RANDOM $RANDOM $RANDOM
}

# HMAC over "<ts>.<body>"; the secret and body travel by environment, never on a command line.
sign() {
  SMOKE_TS="$1" SMOKE_BODY="$2" node -e '
    const c = require("node:crypto");
    const e = process.env;
    process.stdout.write(c.createHmac("sha256", e.TELNYX_WEBHOOK_SECRET).update(`${e.SMOKE_TS}.${e.SMOKE_BODY}`).digest("base64"));'
}

RESP_FILE="$(mktemp)"
trap 'rm -f "$RESP_FILE"' EXIT

# post <ts> <sig> <body> → prints the HTTP status (000 = no response); response body in $RESP_FILE.
post() {
  if command -v curl >/dev/null 2>&1; then
    local code
    code="$(curl -sS -o "$RESP_FILE" -w '%{http_code}' --max-time 10 -X POST "$WEBHOOK_URL" \
      -H 'content-type: application/json' -H "telnyx-timestamp: $1" -H "telnyx-signature: $2" \
      --data-binary "$3" 2>"$RESP_FILE.err")" || { cat "$RESP_FILE.err" >"$RESP_FILE"; code=000; }
    rm -f "$RESP_FILE.err"
    printf '%s' "$code"
  else
    SMOKE_TS="$1" SMOKE_SIG="$2" SMOKE_BODY="$3" SMOKE_OUT="$RESP_FILE" node -e '
      const e = process.env;
      fetch(e.WEBHOOK_URL, { method: "POST", body: e.SMOKE_BODY, signal: AbortSignal.timeout(10000),
        headers: { "content-type": "application/json", "telnyx-timestamp": e.SMOKE_TS, "telnyx-signature": e.SMOKE_SIG } })
        .then(async (r) => { require("node:fs").writeFileSync(e.SMOKE_OUT, await r.text()); process.stdout.write(String(r.status)); })
        .catch((err) => { require("node:fs").writeFileSync(e.SMOKE_OUT, String(err.cause ?? err)); process.stdout.write("000"); });'
  fi
}
export WEBHOOK_URL

leg_id="$(uuid)"
session_id="$(uuid)"
echo "Sending to $WEBHOOK_URL: call_control_id=$CALL_CONTROL_ID  from=$FROM_NUMBER  to=$TO_NUMBER"
failures=0
first=1
for event in $EVENTS; do
  [ "$first" = 1 ] || sleep "$SMOKE_DELAY"
  first=0
  case "$event" in
    call.initiated) state=parked extra='' ;;
    call.answered) state=answered extra=',"codec":"PCMU","sampling_rate":8000' ;;
    call.hangup) state=hangup extra=',"hangup_cause":"normal_clearing","hangup_source":"caller"' ;;
    *) state=answered extra='' ;;
  esac
  occurred="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"
  body="$(printf '{"data":{"event_type":"%s","id":"%s","occurred_at":"%s","payload":{"call_control_id":"%s","call_leg_id":"%s","call_session_id":"%s","connection_id":"smoke-test","direction":"incoming","from":"%s","to":"%s","state":"%s"%s},"record_type":"event"},"meta":{"attempt":1,"delivered_to":"%s"}}' \
    "$event" "$(uuid)" "$occurred" "$CALL_CONTROL_ID" "$leg_id" "$session_id" "$FROM_NUMBER" "$TO_NUMBER" "$state" "$extra" "$WEBHOOK_URL")"
  ts="$(date +%s)"
  sig="$(sign "$ts" "$body")"
  status="$(post "$ts" "$sig" "$body")"
  printf '%-16s → %s %s\n' "$event" "$status" "$(head -c 300 "$RESP_FILE" | tr '\n' ' ')"
  case "$status" in
    2??) ;;
    401) failures=$((failures + 1)); echo "  signature rejected: does the runtime run with TELNYX_WEBHOOK_HMAC_ENABLED=true (not in production) and the same TELNYX_WEBHOOK_SECRET?" >&2 ;;
    000) failures=$((failures + 1)); echo "  no response: is the runtime running at $WEBHOOK_URL?" >&2 ;;
    *) failures=$((failures + 1)) ;;
  esac
done

if [ "$failures" -gt 0 ]; then
  echo "smoke_webhook: FAILED ($failures event(s) not acknowledged)" >&2
  exit 1
fi
echo "smoke_webhook: OK (call_control_id=$CALL_CONTROL_ID)"
