#!/bin/sh
# Format the web UI's JavaScript with Prettier (settings in .prettierrc), or with --check only report what differs.
# Prettier is pinned and run through npx: nothing is installed into the repository (no package.json, no node_modules).
set -eu
PRETTIER_VERSION=3.3.3
cd "$(dirname "$0")/.."
command -v npx >/dev/null 2>&1 || { echo "format-web: npx not found; install Node.js 18+ (apt-get install nodejs npm)" >&2; exit 2; }
mode=--write
if [ "${1:-}" = "--check" ]; then mode=--check; fi
exec npx --yes "prettier@${PRETTIER_VERSION}" "$mode" "web/**/*.js"
