#!/usr/bin/env bash
# Installs the real components the test suite runs against (Debian packages), or with the
# argument `demo` only those the end-to-end demo needs. Idempotent: does
# nothing when they are all present. Needs root (or sudo) to install; otherwise it says what is
# missing and the tests that need it skip with a notice (CI sets CUSTODY_REQUIRE_COMPONENTS=1,
# which turns such a skip into a failure).
set -euo pipefail

packages=(
  in-toto            # in-toto reference implementation 1.3.1 (interop tests)
  python3-securesystemslib
  python3-packaging  # PEP 440 reference ordering (differential test)
  postgresql         # store contract suite, multi-server tests
  softhsm2           # PKCS#11 key backend
  bubblewrap         # hermetic build sandbox
  diffoscope-minimal # reproducible-build diffs
  golang-go          # independent C2SP/RFC 6962 checker (x/mod sumdb/note, sumdb/tlog)
  golang-golang-x-mod-dev
  git
  openssh-client     # ssh-keygen commit signing
  gnupg              # OpenPGP commit signatures
  openssl            # hashing floor in benchmarks
  chromium           # dashboard browser tests (playwright-core drives it)
)

# `install-components.sh demo`: only what `npm run demo` needs (README's main job).
if [ "${1:-}" = "demo" ]; then
  packages=(git openssh-client bubblewrap softhsm2 diffoscope-minimal)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "components: all present"
  exit 0
fi
echo "components: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "components: not root and no sudo; tests needing ${missing[*]} will skip" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "components: installed"
