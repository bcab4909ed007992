#!/bin/sh
# config-check.sh OBJ SRCTREE CONF — refuse a .config value Kconfig would
# silently replace (docs/build.md "Configuration errors").
#
# kconfig's olddefconfig turns a value outside an option's range, or one
# of the wrong type ("abc" for an int), into the default with at most a
# warning, and a bool the dependencies forbid into "not set": a build
# would then measure something other than what the .config says. This
# script runs olddefconfig on a copy of OBJ/.config and compares: every
# CONFIG_SYM=VALUE line of the user's file must survive unchanged, unless
# the symbol is gone from the result altogether (an option whose menu is
# off, or one a newer Kconfig dropped: its value is moot). For each one
# that does not, one line on stderr; exit status 1 if any, else 0. The
# user's .config is never modified here.
set -u
obj=$1 srctree=$2 conf=$3
cfg=$obj/.config
chk=$obj/.config.check
trap 'rm -f "$chk" "$chk.log"' EXIT
cp "$cfg" "$chk" || exit 1
if ! (cd "$obj" && KCONFIG_CONFIG=$chk srctree=$srctree "$conf" --olddefconfig \
	"$srctree/Kconfig" >"$chk.log" 2>&1); then
	echo "config: kconfig cannot read $cfg: $(grep -m1 . "$chk.log")" >&2
	exit 1
fi

# range SYM: "range LO HI" of `config SYM` in the Kconfig files, if any.
range() {
	find "$srctree" -name 'Kconfig*' -not -path '*/build/*' -exec cat {} + 2>/dev/null |
	awk -v s="$1" '$1 == "config" || $1 == "menuconfig" { in_sym = ($2 == s) }
		in_sym && $1 == "range" { print "range " $2 "-" $3; exit }'
}

# The user's settings: SYM=VALUE lines (comments and "is not set" lines
# ask for nothing a default could override).
grep -E '^CONFIG_[A-Za-z0-9_]+=' "$cfg" | while IFS= read -r line; do
	sym=${line%%=*} val=${line#*=}
	grep -qxF -- "$line" "$chk" && continue
	if grep -q "^$sym=" "$chk"; then
		got=$(sed -n "s/^$sym=//p" "$chk")
		r=$(range "${sym#CONFIG_}")
		echo "config: $cfg sets $sym=$val, which Kconfig does not accept${r:+ ($r)}; it would become $got: fix the line or run 'make olddefconfig'" >&2
	elif grep -qx "# $sym is not set" "$chk"; then
		echo "config: $cfg sets $sym=$val, but its dependencies are not met (see 'make menuconfig'): fix the line or run 'make olddefconfig'" >&2
	else
		continue
	fi
	echo bad
done | grep -c bad >"$chk.log"
[ "$(cat "$chk.log")" -eq 0 ]
