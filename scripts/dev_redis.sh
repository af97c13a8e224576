#!/usr/bin/env bash
# Starts a local Redis for development on ${REDIS_PORT:-6379}: native redis-server when installed,
# else a docker container. noeviction: BullMQ must never have its keys evicted.
set -euo pipefail
PORT="${REDIS_PORT:-6379}"

if redis-cli -p "$PORT" ping >/dev/null 2>&1; then
  echo "Redis already answering on 127.0.0.1:$PORT"
  exit 0
fi

if command -v redis-server >/dev/null 2>&1; then
  DATA_DIR="${REDIS_DATA_DIR:-$(pwd)/.tmp/redis}"
  mkdir -p "$DATA_DIR"
  redis-server --port "$PORT" --bind 127.0.0.1 --daemonize yes --dir "$DATA_DIR" \
    --appendonly yes --maxmemory-policy noeviction --logfile "$DATA_DIR/redis.log"
  for _ in $(seq 1 50); do
    redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "Started native redis-server on 127.0.0.1:$PORT (data: $DATA_DIR). Stop it with: redis-cli -p $PORT shutdown"
elif command -v docker >/dev/null 2>&1; then
  docker run -d --name veralux-redis -p "127.0.0.1:$PORT:6379" redis:7-alpine \
    redis-server --appendonly yes --maxmemory-policy noeviction
  echo "Started docker container veralux-redis on 127.0.0.1:$PORT. Stop it with: docker rm -f veralux-redis"
else
  echo "error: neither redis-server nor docker is installed. Install one: apt-get install -y redis-server" >&2
  exit 1
fi
echo "export REDIS_URL=redis://127.0.0.1:$PORT"
