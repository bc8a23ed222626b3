#!/bin/sh
# The release build of the demo app, run by `custody run --provenance` in a hermetic sandbox:
# no network, only the declared materials. The compiler comes from $TSC (bound read-only with
# --tool); npm only packs (it writes fixed mtimes, so the tarball is reproducible bit for bit).
set -eu
export npm_config_offline=true npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false
node "$TSC" -p tsconfig.json
npm pack --pack-destination out --silent >/dev/null
