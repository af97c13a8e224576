#!/usr/bin/env bash
# Exposes the local runtime (localhost:${PORT:-3000}) through ngrok and prints the URLs to configure in
# Telnyx. ngrok needs an account token once: ngrok config add-authtoken <token>. Ctrl-C stops the tunnel.
# Environment: PORT (else from ./.env, else 3000), NGROK_ARGS (extra arguments, e.g. --domain x.ngrok.app),
# TUNNEL_TIMEOUT_S (30).
set -euo pipefail

if ! command -v ngrok >/dev/null 2>&1; then
  echo "error: ngrok is not installed (not found on PATH)." >&2
  echo "Install it: https://ngrok.com/download, then: ngrok config add-authtoken <your token>" >&2
  echo "  (or use ./scripts/dev_cloudflare.sh, which needs no account)" >&2
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

LOG="$(mktemp "${TMPDIR:-/tmp}/ngrok.XXXXXX.log")"
echo "Starting ngrok tunnel to http://localhost:$PORT …"
# shellcheck disable=SC2086
ngrok http "$PORT" --log stdout --log-format logfmt ${NGROK_ARGS:-} >"$LOG" 2>&1 &
PID=$!

# The "started tunnel" log line carries url=https://…; the local agent API is the fallback.
extract_url() {
  local u
  u="$(grep -oE 'url=https://[^ "]+' "$1" | head -n 1)"
  if [ -n "$u" ]; then
    printf '%s\n' "${u#url=}"
  elif command -v curl >/dev/null 2>&1; then
    curl -s --max-time 1 http://127.0.0.1:4040/api/tunnels 2>/dev/null | grep -oE '"public_url":"https://[^"]+' | head -n 1 | cut -d'"' -f4
  fi
}
tunnel_run ngrok "$LOG" "$PID" extract_url
