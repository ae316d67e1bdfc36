#!/usr/bin/env bash
# `make run`: the scheduler process beside the web app (web workers never run jobs).
# Stopping the web app (Ctrl+C) stops the scheduler too (SIGTERM: it finishes the current step).
set -euo pipefail
flask=("${FLASK:-.venv/bin/flask}" --app wsgi)

"${flask[@]}" arrears scheduler &
scheduler=$!
stop_scheduler() {
  kill -TERM "$scheduler" 2>/dev/null || true
  wait "$scheduler" 2>/dev/null || true
}
trap stop_scheduler EXIT
trap 'exit 130' INT TERM

"${flask[@]}" arrears serve "$@"
