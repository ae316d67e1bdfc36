#!/usr/bin/env bash
# Start the local PostgreSQL cluster if it is installed and stopped. Never fails the build:
# without PostgreSQL the PostgreSQL tests are skipped with a reason.
set -u
if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  done
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && { echo "PostgreSQL started"; exit 0; }
    sleep 1
  done
fi
echo "PostgreSQL is not available: its tests will be skipped" >&2
exit 0
