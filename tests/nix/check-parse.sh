#!/usr/bin/env bash
# Every .nix file of the project parses (nix-instantiate --parse), found afresh each run so a
# new file is covered; build folders and node_modules are not the project's.
set -euo pipefail
# shellcheck source=tests/nix/find-nix.sh
. "$(dirname "$0")/find-nix.sh"

mapfile -t files < <(cd "$top" && find . \( -name node_modules -o -name .git -o -path './build*' \) -prune -o \
    -name '*.nix' -type f -print | sort)
[[ ${#files[@]} -gt 0 ]] || fail "no .nix files found under $top"
for f in "${files[@]}"; do
    nix-instantiate --parse "$top/$f" >/dev/null || fail "$f does not parse"
done
echo "${#files[@]} files parse: ${files[*]}"
