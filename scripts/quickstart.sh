#!/usr/bin/env bash
# The main job on embedded defaults (until the end-to-end demo lands): make keys, attest a file,
# verify it, and show that a tampered file is refused. Runs in a temporary directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
custody() { node "$root/bin/custody.js" "$@"; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "== 1. generate a signing key"
custody key generate --type ed25519 --out builder

echo "== 2. build an artifact and attest to it"
mkdir dist && printf 'console.log("hello")\n' > dist/app.js
printf '{"result":"PASSED","passedTests":["unit"]}\n' > result.json
custody attest --subject dist/app.js --type https://in-toto.io/attestation/test-result/v0.1 \
  --predicate result.json --key builder.key --out app.att.json

echo "== 3. verify the attestation and the artifact"
custody verify-envelope app.att.json --key builder.pub --artifact dist/app.js

echo "== 4. tamper with the artifact: verification must refuse it"
printf 'console.log("evil")\n' > dist/app.js
if custody verify-envelope app.att.json --key builder.pub --artifact dist/app.js; then
  echo "quickstart: a tampered artifact verified: this is a bug" >&2
  exit 1
fi
echo "refused, as it should be (exit 1)"
echo "== quickstart finished: every step behaved as expected"
