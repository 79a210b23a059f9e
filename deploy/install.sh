#!/bin/sh
# Install journal-proxy on a systemd host (Debian 12, or any systemd 252+), as root, from this
# checkout.  Safe to run again: every step checks or replaces what it made, and an upgrade is the
# same command.  What only the operator can decide (which units to serve, the nginx server block,
# the GitHub token) is printed at the end.
#
#   deploy/install.sh [--with-network]
#
#   --with-network  leave out the unix-only drop-in (PrivateNetwork=yes, AF_UNIX only); needed
#                   when gatewayd is reached over TCP, e.g. an https:// gatewayd on another host.
#
# pip runs as it is, so PIP_INDEX_URL, PIP_FIND_LINKS and PIP_NO_INDEX work on offline hosts.
set -eu

unix_only=yes
for arg in "$@"; do
    case "$arg" in
    --with-network) unix_only=no ;;
    *) echo "install.sh: unknown argument: $arg (see the comment at the top)" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 1; }

src=$(cd "$(dirname "$0")/.." && pwd)
prefix=/opt/journal-proxy            # not under /root or /home: the unit has ProtectHome=yes
python=/usr/bin/python3              # the system's Python, never one under /root (pyenv, ...)
units=/etc/systemd/system
say() { printf 'install.sh: %s\n' "$*"; }

[ -x "$python" ] || { echo "install.sh: $python is missing (apt-get install python3)" >&2; exit 1; }
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    echo "install.sh: $python cannot make a venv (apt-get install python3-venv)" >&2
    exit 1
fi
[ -x /lib/systemd/systemd-journal-gatewayd ] || [ -x /usr/lib/systemd/systemd-journal-gatewayd ] ||
    { echo "install.sh: gatewayd is missing (apt-get install systemd-journal-remote)" >&2; exit 1; }

# 1. The package, in its own venv.  Built from a copy: setuptools writes into the tree it builds,
#    and the checkout may be read-only.
say "installing the package into $prefix/venv"
[ -x "$prefix/venv/bin/python" ] || "$python" -m venv "$prefix/venv"
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
cp -R "$src/pyproject.toml" "$src/README.md" "$src/journal_proxy" "$build/"
"$prefix/venv/bin/pip" install --quiet --disable-pip-version-check --upgrade "$build"
ln -sfn "$prefix/venv/bin/journal-proxy" /usr/local/bin/journal-proxy

# 2. gatewayd on a unix socket that only the proxy's group may use, started now and at boot.
say "putting gatewayd on /run/journal-gatewayd.sock (group journal-gatewayd-clients)"
install -d -m 0755 /etc/sysusers.d "$units/systemd-journal-gatewayd.socket.d"
install -m 0644 "$src/deploy/sysusers.d/journal-proxy.conf" /etc/sysusers.d/journal-proxy.conf
systemd-sysusers /etc/sysusers.d/journal-proxy.conf
install -m 0644 "$src/deploy/systemd-journal-gatewayd.socket.d/unix.conf" \
    "$units/systemd-journal-gatewayd.socket.d/unix.conf"

# 3. The configuration, only if there is none: an upgrade keeps the operator's.
install -d -m 0755 /etc/journal-proxy
if [ ! -e /etc/journal-proxy/config.toml ]; then
    install -m 0644 "$src/deploy/config.toml" /etc/journal-proxy/config.toml
    say "wrote /etc/journal-proxy/config.toml: set unit = [...] to the units to serve"
fi

# 4. The proxy's units; socket-activated, so nothing runs until the first request.
say "installing journal-proxy.socket and journal-proxy.service"
install -m 0644 "$src/deploy/journal-proxy.socket" "$src/deploy/journal-proxy.service" "$units/"
if [ "$unix_only" = yes ]; then
    install -d -m 0755 "$units/journal-proxy.service.d"
    install -m 0644 "$src/deploy/journal-proxy.service.d/unix-only.conf" \
        "$units/journal-proxy.service.d/unix-only.conf"
else
    rm -f "$units/journal-proxy.service.d/unix-only.conf"
fi
systemctl daemon-reload
# A socket already listening keeps its old address until it is restarted.
systemctl enable --quiet systemd-journal-gatewayd.socket journal-proxy.socket
systemctl stop systemd-journal-gatewayd.service 2>/dev/null || true
systemctl restart systemd-journal-gatewayd.socket
# A failed earlier attempt leaves the socket refusing to start the service until reset.
systemctl reset-failed journal-proxy.socket journal-proxy.service 2>/dev/null || true
systemctl start journal-proxy.socket
systemctl try-restart journal-proxy.service   # a running proxy picks up the new code

# 5. nginx's pieces, where nginx is installed: the upstream in http { } (conf.d), and the
#    locations as a snippet for the operator's TLS server { }.
if [ -d /etc/nginx ]; then
    install -d -m 0755 /etc/nginx/conf.d /etc/nginx/snippets
    install -m 0644 "$src/deploy/nginx/upstream.conf" /etc/nginx/conf.d/journal-proxy-upstream.conf
    install -m 0644 "$src/deploy/nginx/journal-proxy.conf" /etc/nginx/snippets/journal-proxy.conf
    if systemctl is-active --quiet nginx && nginx -t 2>/dev/null; then
        systemctl reload nginx
    fi
fi

cat <<EOF
install.sh: done.  What only you can decide:
  - which units to serve: unit = [...] in /etc/journal-proxy/config.toml
    (then: systemctl try-reload-or-restart journal-proxy)
  - nginx: add  include snippets/journal-proxy.conf;  to the site's TLS server { } block,
    then: nginx -t && systemctl reload nginx
  - GitHub: the token in /etc/journal-proxy/github-token (mode 0600), and the deploy unit and
    its handler from $src/deploy/examples/ (README: "The whole flow")
EOF
