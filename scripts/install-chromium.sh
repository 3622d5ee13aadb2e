#!/bin/sh
# Installs Debian's Chromium (/usr/bin/chromium) for scripts/check_report_in_browser.py, if it is missing.
# Idempotent, quiet and non-interactive: runs `apt-get update` only when the install fails without it.
# Needs root (or sudo without a password) on Debian or Ubuntu; prints what it did and how long it took.
set -eu

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}  # or another Chromium-based browser, e.g. CHROMIUM=/usr/bin/google-chrome
if [ -x "$CHROMIUM" ]; then
    echo "chromium: already installed ($("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"))"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium: $CHROMIUM is missing and apt-get is not available: install Chromium yourself" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "chromium: $CHROMIUM is missing; run this script as root (or with sudo) to install it" >&2
        exit 1
    fi
fi

started=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
install() {
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        chromium chromium-sandbox fonts-liberation >"$log" 2>&1
}
if ! install; then
    # A fresh image has no package lists yet: update once, then try again.
    if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 || ! install; then
        tail -n 20 "$log" >&2
        echo "chromium: apt-get could not install chromium (output above)" >&2
        exit 1
    fi
fi
if [ ! -x "$CHROMIUM" ]; then
    echo "chromium: apt-get installed the package but $CHROMIUM is still missing" >&2
    exit 1
fi
echo "chromium: installed $("$CHROMIUM" --version 2>/dev/null) in $(($(date +%s) - started)) s"
