#!/usr/bin/env bash
# Installs wirelab and everything it needs on a fresh Debian machine (run as root).
#   bash install.sh          -> system packages + wirelab
#   bash install.sh --dev    -> the same plus the test dependencies
set -euo pipefail
cd "$(dirname "$0")"
need=()
command -v tshark  >/dev/null 2>&1 || need+=(tshark)
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
ldconfig -p 2>/dev/null | grep -q 'libpcap\.so' || need+=(libpcap0.8)
# the compiled hot path (Cython twins of the per-packet modules) needs a C compiler and
# the interpreter's headers; without them pip builds the pure-Python package
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' || need+=(python3-dev)
# the browser test of `wirelab web` drives Debian's chromium (no browser download)
[ "${1:-}" = "--dev" ] && ! command -v chromium >/dev/null 2>&1 && need+=(chromium)
# the lossy-link tests build network namespaces, veth pairs and tc qdiscs
[ "${1:-}" = "--dev" ] && ! command -v tc >/dev/null 2>&1 && need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
    echo "install.sh: installing system packages: ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
extra=""
[ "${1:-}" = "--dev" ] && extra="[test]"
log=$(mktemp)
if ! python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -e ".${extra}" >"$log" 2>&1; then
    grep -v -e "^WARNING: Location" -e "is ignored: it is neither" "$log" >&2
    echo "install.sh: pip install failed" >&2
    rm -f "$log"; exit 1
fi
rm -f "$log"
command -v pyenv >/dev/null 2>&1 && pyenv rehash >/dev/null 2>&1 || true
python3 -c "import analyzer, dissectors" || { echo "install.sh: wirelab did not install" >&2; exit 1; }
