#!/bin/sh
# SPDX-License-Identifier: MIT
# Every function libionest.so exports is described in libionest(3):
# check-api-docs.sh LIBIONEST.SO docs/libionest.3
lib=$1
page=$2
syms=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }')
[ -n "$syms" ] || { echo "$lib: no exported functions found"; exit 1; }
rc=0
for s in $syms; do
	grep -qw -- "$s" "$page" ||
		{ echo "$s is exported but not in $page: document it there"; rc=1; }
done
exit $rc
