#!/bin/sh
# Run journal-proxy on a built-in demo journal served by a real gatewayd (Debian 12, as root).
# Installs what it needs (apt: python3-venv, systemd, systemd-journal-remote; pip: this package
# into .venv), then runs `journal-proxy demo`, which prints three links once they serve.
# Ctrl+C stops it and removes everything it wrote. Extra arguments go to the demo (--listen).
set -eu
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=""
for p in python3 python3-venv systemd systemd-journal-remote; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "demo.sh: needs the Debian packages$need; run as root to install them" >&2
        exit 1
    fi
    echo "demo.sh: installing$need" >&2
    apt-get update -qq
    # shellcheck disable=SC2086 # one word per package
    apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e .
exec .venv/bin/journal-proxy demo "$@"
