#!/bin/sh
# SPDX-License-Identifier: MIT
# Install a build into a scratch DESTDIR and use it as a user would: build
# and run a small program and the installed C examples through
# pkg-config, and run the installed ionest command (which finds its
# preload library and benchmark programs relative to itself).
set -e
build=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest meson install -C "$build" --quiet >/dev/null
pc=$(find "$dest" -name ionest.pc | head -n 1)
[ -n "$pc" ] || { echo "ionest.pc not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest
libdir=$(dirname "$(find "$dest" -name 'libionest.so.0' | head -n 1)")
export LD_LIBRARY_PATH=$libdir
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
"$dest/prog"

# The examples as installed, built with nothing but pkg-config.
exdir=$(find "$dest" -type d -path '*/ionest/examples' | head -n 1)
[ -n "$exdir" ] || { echo "examples not installed"; exit 1; }
for src in "$exdir"/*.c; do
	exe=$dest/$(basename "$src" .c)
	# shellcheck disable=SC2046
	cc -std=c17 -Wall -Wextra -Werror -o "$exe" "$src" \
		$(pkg-config --cflags --libs ionest)
	"$exe" >/dev/null || { echo "$src: exit status $?"; exit 1; }
done

# The man pages, and the command with what it finds beside itself.
for page in man1/ionest.1 man3/libionest.3; do
	[ -n "$(find "$dest" -path "*/man/$page")" ] ||
		{ echo "$page not installed"; exit 1; }
done
ionest=$(find "$dest" -path '*/bin/ionest' | head -n 1)
"$ionest" --version >/dev/null
"$ionest" bench --list | grep -qx pt ||
	{ echo "ionest bench finds no installed suites"; exit 1; }
"$ionest" topology "$exdir/vtd.yaml" >/dev/null
