#!/bin/sh
# Install everything the tests need on Debian 12 (as root), then run lint, types and tests.
# Used as-is by CI (.ci/run).  Safe to run again: every step is idempotent.
set -eu
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
PKGS="python3 python3-venv systemd systemd-container systemd-journal-remote nginx chromium curl wrk iproute2 openssl"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Debian starts nginx when it is installed; the tests run their own on free ports.
service nginx stop >/dev/null 2>&1 || true

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
# Node.js runs the page's JavaScript tests and installs axe-core (Debian 12's nodejs and npm).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# axe-core for the page's accessibility test (npm's registry; Debian and PyPI have no copy).
if [ ! -f .venv/axe/node_modules/axe-core/axe.min.js ]; then
    npm install --silent --no-audit --no-fund --prefix .venv/axe axe-core@4 >/dev/null
fi
# ESLint for the page's JavaScript (npm's registry, like axe-core; eslint.config.mjs loads it from here).
if [ ! -x .venv/eslint/node_modules/.bin/eslint ]; then
    npm install --silent --no-audit --no-fund --prefix .venv/eslint eslint@9 >/dev/null
fi

.venv/bin/ruff check journal_proxy tests bench
.venv/bin/ruff format --check journal_proxy tests bench
.venv/bin/mypy
# The page's pure JavaScript (regex guard, URLs, SSE, durations) under node's own test runner.
node --test tests/js/*.test.mjs
# ESLint's recommended rules and no function over 50 lines (eslint.config.mjs); any finding fails.
.venv/eslint/node_modules/.bin/eslint --max-warnings 0 journal_proxy/static tests/js eslint.config.mjs
# The layers of the code map (pyproject.toml [tool.importlinter]).
.venv/bin/lint-imports --no-cache
# The benchmark in its short smoke mode: it must run, its figures are not judged here.
.venv/bin/python bench/run.py --smoke 2>/dev/null
# The soak in its short mode: mixed traffic from many addresses; it fails if a valid request did.
.venv/bin/python bench/soak.py --smoke
# pytest exits 5 when it collected no tests: that must fail, so no "|| true" anywhere here.
exec .venv/bin/python -m pytest -q -rs -p no:cacheprovider "$@"
