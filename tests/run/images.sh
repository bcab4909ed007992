# tests/run/images.sh — tiny guest images made with printf, for the
# tests/run/ scripts (sourced): nothing binary is committed.
#
# mb: a multiboot image (Multiboot Specification 0.6.96, 3.1) — a 32-byte
# header with the a.out kludge (flags bit 16), header_addr = load_addr =
# 1 MiB, load_end_addr = bss_end_addr = 0 (the whole file, no bss), entry
# right after the header. The CPU starts in 32-bit protected mode with
# IF = 0 and an empty IDT (spec 3.2). elf64: an ELF64 executable (System
# V gABI ch. 4-5) entered in 64-bit mode (docs/loaders.md).

# le VALUE BYTES: VALUE little-endian in BYTES bytes.
le() {
	v=$1 n=$2
	while [ "$n" -gt 0 ]; do
		printf "\\$(printf %03o $((v & 255)))"
		v=$((v >> 8)) n=$((n - 1))
	done
}

# hex "f4 fa ...": those bytes.
hex() {
	for b in $1; do printf "\\$(printf %03o $((0x$b)))"; done
}

MB_MAGIC=$((0x1BADB002))
# mb FILE CODE-HEX [CHECKSUM-DELTA]: a multiboot a.out-kludge image.
mb() {
	flags=$((0x10000))
	sum=$(( (0x100000000 - MB_MAGIC - flags + ${3:-0}) & 0xffffffff ))
	{ le $MB_MAGIC 4; le $flags 4; le $sum 4
	  le $((0x100000)) 4; le $((0x100000)) 4; le 0 4; le 0 4; le $((0x100020)) 4
	  hex "$2"; } >"$1"
}

# elf64 FILE CODE-HEX: ET_EXEC x86-64, one PT_LOAD of the whole file at
# 1 MiB, entry at the code after the headers (64 + 56 bytes).
elf64() {
	size=$((120 + $(echo $2 | wc -w)))
	{ hex "7f 45 4c 46 02 01 01 00 00 00 00 00 00 00 00 00"
	  le 2 2; le 62 2; le 1 4; le $((0x100000 + 120)) 8; le 64 8; le 0 8
	  le 0 4; le 64 2; le 56 2; le 1 2; le 64 2; le 0 2; le 0 2
	  le 1 4; le 7 4; le 0 8; le $((0x100000)) 8; le $((0x100000)) 8
	  le $size 8; le $size 8; le 4096 8
	  hex "$2"; } >"$1"
}
