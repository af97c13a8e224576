#!/usr/bin/env bash
# Starts the project's own development Redis on 127.0.0.1:${REDIS_PORT:-6390} with its data in
# ${REDIS_DATA_DIR:-./.tmp/redis} (native redis-server, else a docker container named veralux-redis).
# Port 6390, not 6379: `apt-get install redis-server` starts the system's Redis on 6379, and that one
# (someone else's, with their data) must never be used or written by us. If something already answers
# on the port, it is reused only when it is ours (its data dir is ours, or it is our container);
# anything else is an error naming the port. noeviction: BullMQ must never have its keys evicted.
set -euo pipefail
PORT="${REDIS_PORT:-6390}"
DATA_DIR="${REDIS_DATA_DIR:-$(pwd)/.tmp/redis}"

ours_native() {
  [ "$(redis-cli -p "$PORT" --no-auth-warning config get dir 2>/dev/null | sed -n 2p)" = "$DATA_DIR" ]
}
ours_docker() {
  command -v docker >/dev/null 2>&1 && [ "$(docker ps --filter name=^veralux-redis$ --format '{{.Ports}}' 2>/dev/null | grep -c "127.0.0.1:$PORT->")" -gt 0 ]
}

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  if ours_native || ours_docker; then
    echo "The project's Redis is already running on 127.0.0.1:$PORT"
    echo "export REDIS_URL=redis://127.0.0.1:$PORT"
    exit 0
  fi
  echo "error: something else listens on 127.0.0.1:$PORT (not this project's Redis: its data dir is not $DATA_DIR)." >&2
  echo "       Pick a free port: REDIS_PORT=6391 $0  (and set REDIS_URL=redis://127.0.0.1:6391 in .env)" >&2
  exit 1
fi

mkdir -p "$DATA_DIR"
if command -v redis-server >/dev/null 2>&1; then
  redis-server --port "$PORT" --bind 127.0.0.1 --daemonize yes --dir "$DATA_DIR" \
    --appendonly yes --maxmemory-policy noeviction --logfile "$DATA_DIR/redis.log"
  for _ in $(seq 1 50); do
    redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "Started the project's redis-server on 127.0.0.1:$PORT (data: $DATA_DIR). Stop it with: redis-cli -p $PORT shutdown"
elif command -v docker >/dev/null 2>&1; then
  docker rm -f veralux-redis >/dev/null 2>&1 || true
  docker run -d --name veralux-redis -p "127.0.0.1:$PORT:6379" redis:7-alpine \
    redis-server --appendonly yes --maxmemory-policy noeviction
  echo "Started docker container veralux-redis on 127.0.0.1:$PORT. Stop it with: docker rm -f veralux-redis"
else
  echo "error: neither redis-server nor docker is installed: sudo ./scripts/setup-system.sh" >&2
  exit 1
fi
echo "export REDIS_URL=redis://127.0.0.1:$PORT"
