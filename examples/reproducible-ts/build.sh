#!/bin/sh
# Offline build: the TypeScript compiler comes from $TSC (bound read-only into the sandbox), npm
# only packs (no registry access). npm pack writes fixed mtimes, so the tarball is reproducible.
set -eu
export npm_config_offline=true npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false
node "$TSC" -p tsconfig.json
npm pack --pack-destination out --silent >/dev/null
