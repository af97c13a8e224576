#!/usr/bin/env bash
# Installs the system packages the demo and the tests need (Debian/Ubuntu; run as root or with sudo).
# The one list: .ci/run calls this script too. Packages already present are skipped, so a second run
# does nothing and needs no network.
#   redis-server        tests and the demo start a private one (never the system's); the Sentinel tests run
#                       its sentinels as `redis-server <conf> --sentinel` (no redis-sentinel package needed)
#   espeak-ng, sox      speech fixtures for tests; espeak-ng is the demo's TTS stand-in
#   libopencore-amrwb0  the runtime's AMR-WB decoder; libvo-amrwbenc0 encodes AMR-WB caller audio in tests
#   chromium            the /hd-call real-browser test (npm run test:browser), driven by playwright-core
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v sox >/dev/null 2>&1 || need+=(sox)
[ -x /usr/bin/chromium ] || need+=(chromium)
for lib in libopencore-amrwb.so.0:libopencore-amrwb0 libvo-amrwbenc.so.0:libvo-amrwbenc0; do
  ldconfig -p | grep -q "${lib%%:*}" || need+=("${lib##*:}")
done

if [ ${#need[@]} -eq 0 ]; then
  echo "setup-system: everything is installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system: needs root to install ${need[*]}: sudo $0" >&2
  exit 1
fi
echo "setup-system: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}"
