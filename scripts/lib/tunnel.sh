# Sourced by scripts/dev_cloudflare.sh and scripts/dev_ngrok.sh: wait for the tunnel's public URL in
# its log, print what to configure in Telnyx and .env, then keep the tunnel in the foreground.

# tunnel_run NAME LOG PID EXTRACT_FN → waits up to TUNNEL_TIMEOUT_S (default 30) for EXTRACT_FN to
# print the public https URL, prints the settings, then waits for the tunnel (Ctrl-C stops it).
tunnel_run() {
  local name="$1" log="$2" pid="$3" extract="$4" timeout="${TUNNEL_TIMEOUT_S:-30}" url="" waited=0
  trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; echo; echo "$name stopped."; exit 0' INT TERM
  while [ -z "$url" ]; do
    url="$("$extract" "$log" || true)"
    [ -n "$url" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: $name exited before printing a public URL. Last log lines ($log):" >&2
      tail -n 20 "$log" >&2
      exit 1
    fi
    if [ "$waited" -ge $((timeout * 10)) ]; then
      echo "error: no public URL from $name within ${timeout}s (log: $log)" >&2
      tail -n 20 "$log" >&2
      kill "$pid" 2>/dev/null
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  url="${url%/}"
  tunnel_print_urls "$url"
  echo "Tunnel log: $log   (Ctrl-C stops the tunnel)"
  set +e
  wait "$pid"
  local rc=$?
  echo "$name exited (code $rc)." >&2
  exit "$rc"
}

# tunnel_print_urls PUBLIC_URL → the Telnyx webhook URL and the .env settings for that public URL.
tunnel_print_urls() {
  local public="$1" audio_path audio_current rest
  audio_current="${AUDIO_PUBLIC_BASE_URL:-$(dotenv_get AUDIO_PUBLIC_BASE_URL)}"
  audio_path=/audio
  if [ -n "$audio_current" ]; then
    rest="${audio_current#*://}"
    if [[ "$rest" == */* ]]; then audio_path="/${rest#*/}"; else audio_path=""; fi
    audio_path="${audio_path%/}"
  fi
  local ws="${public/#https:/wss:}"
  cat <<MSG

Public URL: $public  →  http://localhost:$PORT

Telnyx portal → Call Control → your application:
  Webhook URL (API v2):  $public/v1/telnyx/webhook

Set in .env (then restart the runtime):
  PUBLIC_BASE_URL=$public
  AUDIO_PUBLIC_BASE_URL=$public$audio_path

Media streams then connect to $ws/v1/telnyx/media/<call_control_id>?token=…
MSG
}
