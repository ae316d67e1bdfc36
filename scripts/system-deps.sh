#!/usr/bin/env bash
# Install the Debian packages the app needs, only where missing (needs root or sudo).
set -euo pipefail

packages=()
python3 -c 'import venv, ensurepip' 2>/dev/null || packages+=(python3-venv)
command -v gcc >/dev/null 2>&1 || packages+=(build-essential)
[ -e /usr/include/python3.11/Python.h ] || python3 -c 'import sysconfig,os,sys; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"],"Python.h")) else 1)' || packages+=(python3-dev)
# Browser tests drive Debian's Chromium; CJK fonts render Chinese in pages and documents.
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
# WeasyPrint renders letters and documents through Pango and HarfBuzz (font subsetting).
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || packages+=(libpango-1.0-0 libpangoft2-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so.0' || packages+=(libharfbuzz-subset0)
command -v fc-list >/dev/null 2>&1 || packages+=(fontconfig)
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto 2>/dev/null | grep -qi cjk || packages+=(fonts-noto-cjk)

if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "missing system packages: ${packages[*]} (run as root or install them)" >&2; exit 1
fi
echo "installing system packages: ${packages[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
