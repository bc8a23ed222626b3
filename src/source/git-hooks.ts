// Git hooks custody installs: pre-commit scans the staged files for secrets; pre-push scans the
// blobs of every pushed range and, when the repository has a source policy, verifies the pushed
// refs. The scripts are POSIX sh and call custody through the command the installer names.
export const HOOK_MARKER = '# installed by custody hooks install';

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function preCommitHook(command: readonly string[]): string {
  return `#!/bin/sh\n${HOOK_MARKER}\nexec ${command.map(quote).join(' ')} scan secrets --staged >&2\n`;
}

/** githooks(5) pre-push: stdin lines "<local ref> <local oid> <remote ref> <remote oid>". */
export function prePushHook(command: readonly string[], policy: string): string {
  const c = command.map(quote).join(' ');
  return `#!/bin/sh
${HOOK_MARKER}
zero=$(git hash-object --stdin </dev/null | tr '0-9a-f' '0')
status=0
while read -r local_ref local_oid remote_ref remote_oid; do
  [ "$local_oid" = "$zero" ] && continue   # deleting a ref: nothing to scan
  if [ "$remote_oid" = "$zero" ]; then range="$local_oid --not --remotes"; else range="$remote_oid..$local_oid"; fi
  ${c} scan secrets --history --range "$range" >&2 || status=1
  if [ -f ${quote(policy)} ]; then
    ${c} source verify --policy ${quote(policy)} --ref "$local_ref" >&2 || status=1
  fi
done
exit $status
`;
}
