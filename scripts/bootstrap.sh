#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the pinned dependencies; does nothing when done already.
# Python: $PYTHON if set, else python3.10 on PATH (pyenv resolves it through .python-version),
# else a pyenv-installed 3.10.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
lock=requirements.lock

find_python() {
    if [ -n "${PYTHON:-}" ]; then
        command -v "$PYTHON" || { echo "bootstrap: PYTHON=$PYTHON is not an executable" >&2; return 1; }
        return 0
    fi
    local candidate
    for candidate in python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

is_310() { "$1" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; }

if [ ! -x "$venv/bin/python" ] || ! is_310 "$venv/bin/python"; then
    if ! python=$(find_python); then
        echo "bootstrap: Python 3.10 not found (Rasa 3.6 needs 3.10): install it with 'pyenv install 3.10.13' or your package manager, or run with PYTHON=/path/to/python3.10" >&2
        exit 1
    fi
    if ! is_310 "$python"; then
        echo "bootstrap: $python is not Python 3.10 (Rasa 3.6 needs 3.10)" >&2
        exit 1
    fi
    rm -rf "$venv"
    echo "bootstrap: creating $venv with $python"
    "$python" -m venv "$venv"
fi

stamp="$venv/.installed-$(cat "$lock" pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "bootstrap: installing pinned dependencies from $lock (the first time takes a few minutes)"
    started=$(date +%s)
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24,<25"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock"
    # The repo root on the venv's path: `rasa run`, the action server and tests import bot/, channels/...
    "$venv/bin/python" -c 'import site, sys; open(site.getsitepackages()[0] + "/social_care.pth", "w").write(sys.argv[1] + "\n")' "$PWD"
    rm -f "$venv"/.installed-*
    touch "$stamp"
    echo "bootstrap: dependencies installed in $(( $(date +%s) - started )) s"
fi

# The sandbox's browser tests drive Debian's chromium through Playwright (Playwright's own browser
# download cannot work here). Without it those tests fail and say so; `make run` does not need it.
chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing Debian's chromium for the browser tests (apt-get install chromium; a few minutes)"
        started=$(date +%s)
        export DEBIAN_FRONTEND=noninteractive
        if ! apt-get install -y -q chromium >/dev/null 2>&1; then
            echo "bootstrap: apt-get update, then apt-get install chromium"
            apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null || true
        fi
        if [ -x "$chromium" ]; then
            echo "bootstrap: chromium installed in $(( $(date +%s) - started )) s"
        else
            echo "bootstrap: could not install chromium with apt-get: the browser tests will fail until $chromium exists" >&2
        fi
    else
        echo "bootstrap: $chromium is missing and apt-get cannot run here (needs root): install Debian's 'chromium' package, or the browser tests will fail" >&2
    fi
fi
