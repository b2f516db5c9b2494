#!/bin/sh
# SPDX-License-Identifier: MIT
# Install a build into a scratch DESTDIR and compile and run a program
# against it with pkg-config, as a user of the library would.
set -e
build=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest meson install -C "$build" --quiet >/dev/null
pc=$(find "$dest" -name ionest.pc | head -n 1)
[ -n "$pc" ] || { echo "ionest.pc not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest
cat > "$dest/prog.c" <<'C'
#include <ionest/hw.h>
#include <ionest/trace.h>
#include <stdio.h>
int main(void)
{
	struct ionest_hw *hw = ionest_smmuv3_new(NULL);
	int ok = hw && ionest_trace_event_name(0) != NULL;
	ionest_hw_free(hw);
	puts(ok ? "ok" : "fail");
	return !ok;
}
C
# shellcheck disable=SC2046
cc -o "$dest/prog" "$dest/prog.c" $(pkg-config --cflags --libs ionest)
libdir=$(dirname "$(find "$dest" -name 'libionest.so.0' | head -n 1)")
LD_LIBRARY_PATH=$libdir "$dest/prog"
