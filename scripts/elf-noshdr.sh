#!/bin/sh
# elf-noshdr.sh FILE: drop what a stripped static ELF64 executable carries after its last loaded
# byte (.comment, .shstrtab and the section header table, about 1.1 KiB for switch). The
# kernel loads an executable by its program headers alone; only tools that list sections
# (objdump -h, readelf -S) lose anything. Needs readelf, dd and truncate.
set -eu
f=$1
end=0
for x in $(readelf -lW "$f" | awk '$1 == "LOAD" { print $2 "+" $5 }'); do
	e=$(($x))
	[ "$e" -gt "$end" ] || continue
	end=$e
done
[ "$end" -gt 64 ] || { echo "elf-noshdr.sh: $f: no LOAD segment" >&2; exit 1; }
# e_shoff (8 bytes at 40), then e_shentsize, e_shnum, e_shstrndx (2 bytes each at 58): zero.
dd if=/dev/zero of="$f" bs=1 seek=40 count=8 conv=notrunc 2>/dev/null
dd if=/dev/zero of="$f" bs=1 seek=58 count=6 conv=notrunc 2>/dev/null
truncate -s "$end" "$f"
