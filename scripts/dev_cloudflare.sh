#!/usr/bin/env bash
# Exposes the local runtime (localhost:${PORT:-3000}) through a Cloudflare quick tunnel (free, no account)
# and prints the URLs to configure in Telnyx. Ctrl-C stops the tunnel.
# Environment: PORT (else from ./.env, else 3000), CLOUDFLARED_ARGS (extra arguments), TUNNEL_TIMEOUT_S (30).
set -euo pipefail

if ! command -v cloudflared >/dev/null 2>&1; then
  echo "error: cloudflared is not installed (not found on PATH)." >&2
  echo "Install it: https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/" >&2
  echo "  (Debian/Ubuntu: the cloudflared .deb from that page; macOS: brew install cloudflared), or use ./scripts/dev_ngrok.sh" >&2
  exit 1
fi

here="${BASH_SOURCE[0]%/*}"
[ "$here" = "${BASH_SOURCE[0]}" ] && here=.
# shellcheck source=lib/dotenv.sh
source "$here/lib/dotenv.sh"
# shellcheck source=lib/tunnel.sh
source "$here/lib/tunnel.sh"
dotenv_default PORT
PORT="${PORT:-3000}"

LOG="$(mktemp "${TMPDIR:-/tmp}/cloudflared.XXXXXX.log")"
echo "Starting cloudflared quick tunnel to http://localhost:$PORT …"
# shellcheck disable=SC2086
cloudflared tunnel --no-autoupdate --url "http://localhost:$PORT" ${CLOUDFLARED_ARGS:-} >"$LOG" 2>&1 &
PID=$!

extract_url() {
  grep -oE 'https://[-a-z0-9]+\.trycloudflare\.com' "$1" | head -n 1
}
tunnel_run cloudflared "$LOG" "$PID" extract_url
