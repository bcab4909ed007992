#!/bin/sh
# fixdep.sh DEPFILE OBJDIR — rewrite a gcc -MMD -MP dependency file the way
# Kbuild's fixdep does: drop the dependency on autoconf.h (which changes on
# every configuration change) and instead depend on the per-option files
# OBJDIR/include/config/<sym>.h that kconfig-conf --silentoldconfig touches
# only when that option's value changes. An object thus rebuilds exactly
# when an option its sources mention changes. Output goes to stdout.
set -eu
dep=$1 objdir=$2
# The sources and headers this object was built from (first rule only).
files=$(sed -n '1,/[^\\]$/p' "$dep" | sed 's/^[^:]*://; s/\\$//' | tr ' ' '\n' \
        | grep -v '^$' | grep -v '/include/generated/autoconf.h$' || true)
sed -e '\#^[^ ]*include/generated/autoconf.h:$#d' \
    -e 's#[^ ]*include/generated/autoconf.h##' "$dep"
[ -n "$files" ] || exit 0
syms=$(cat $files 2>/dev/null | grep -o 'CONFIG_[A-Z0-9_]*' | sort -u || true)
target=$(sed -n '1s/:.*//p' "$dep")
for s in $syms; do
	f=$(echo "${s#CONFIG_}" | tr 'A-Z_' 'a-z/')
	printf '%s: $(wildcard %s/include/config/%s.h)\n' "$target" "$objdir" "$f"
done
