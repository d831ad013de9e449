#!/usr/bin/env bash
# One slow step of `make run`, narrated: a line before it starts (what, how long it usually takes, where its log is),
# a heartbeat every minute while it runs (with ninja's [done/total] while llama.cpp compiles), its time at the end,
# and the last lines of its log if it fails.
#   usage: scripts/step.sh "what it does" "how long it usually takes" LOGFILE -- COMMAND [ARGS...]
set -u
if [ "$#" -lt 5 ] || [ "$4" != "--" ]; then
  echo "usage: $0 WHAT EXPECTED LOGFILE -- COMMAND..." >&2
  exit 2
fi
what=$1 expected=$2 log=$3
shift 4
mkdir -p "$(dirname "$log")"
human() { local s=$1; if [ "$s" -lt 60 ]; then echo "${s} s"; else printf '%d min %02d s' $((s / 60)) $((s % 60)); fi; }
echo "==> $what (usually $expected; log: $log)"
start=$SECONDS
"$@" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; echo; echo "interrupted: $what; run make run again to continue" >&2; exit 130' INT TERM
next=60
while kill -0 "$pid" 2>/dev/null; do
  sleep 2
  if [ $((SECONDS - start)) -ge "$next" ] && kill -0 "$pid" 2>/dev/null; then
    compiled=$(grep -o '\[[0-9]*/[0-9]*\]' "$log" 2>/dev/null | tail -n 1)
    echo "    ... $(human $((SECONDS - start))) so far${compiled:+, compiled $compiled files}"
    next=$((next + 60))
  fi
done
wait "$pid"
rc=$?
trap - INT TERM
if [ "$rc" -ne 0 ]; then
  echo "error: $what failed after $(human $((SECONDS - start))) (exit code $rc); the last lines of $log:" >&2
  tail -n 25 "$log" >&2
  exit "$rc"
fi
echo "    done in $(human $((SECONDS - start)))"
