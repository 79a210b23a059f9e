#!/bin/sh
# Run journal-proxy on a built-in demo journal served by a real gatewayd (Debian 12, as root).
set -eu
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
for p in python3 python3-venv systemd systemd-journal-remote; do
    dpkg -s "$p" >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq --no-install-recommends python3 python3-venv systemd systemd-journal-remote >/dev/null; break; }
done
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e .
exec .venv/bin/journal-proxy demo "$@"
