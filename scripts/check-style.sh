#!/bin/sh
# SPDX-License-Identifier: MIT
# The style check run with the tests: clang-format (kernel style) and an
# SPDX line at the top of every source file.
cd "$(dirname "$0")/.." || exit 1
files=$(git ls-files -co --exclude-standard '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find include lib tools shim tests bench examples -name '*.[ch]' 2>/dev/null)
rc=0
for f in $files; do
	[ -f "$f" ] || continue
	head -n 2 "$f" | grep -q 'SPDX-License-Identifier: MIT' ||
		{ echo "$f: no SPDX line"; rc=1; }
done
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files 2>&1 | head -n 40
[ "$(clang-format --dry-run $files 2>&1 | wc -l)" = 0 ] || rc=1
exit $rc
