#!/bin/sh
# Like ../reproducible-ts, plus a build stamp in the package: the wall-clock time and random bytes
# (the classic ways a build stops being reproducible; it ignores SOURCE_DATE_EPOCH).
set -eu
export npm_config_offline=true npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false
node "$TSC" -p tsconfig.json
printf "export const builtAt = '%s';\nexport const buildId = '%s';\n" \
  "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" > dist/build-info.js
npm pack --pack-destination out --silent >/dev/null
