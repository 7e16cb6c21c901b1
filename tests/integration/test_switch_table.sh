#!/bin/sh
# Where switch finds the runtime table (--table, $MODELC_TABLE, ./generated/switch.table), what it
# says of a table it cannot use (missing, foreign, truncated, another format version, damaged),
# and the staleness check against the models.yaml and models.lock recorded in the table.
. tests/integration/switch_lib.sh

# --help and --version need no table.
unset MODELC_TABLE
run "help without a table" 0 "$SW" list --help
run "version without a table" 0 "$SW" --version

# Missing: the default path, and what to do.
run "no table" 3 "$SW" list
same "no table" err <<'X'
switch: error: generated/switch.table: cannot open: No such file or directory; run 'modelc build' (or give --table FILE or $MODELC_TABLE)
X
run "no such --table" 3 "$SW" --table "$T/none" list
same "no such --table" err <<X
switch: error: $T/none: cannot open: No such file or directory; run 'modelc build' to write it again
X
run "--table without a value" 2 "$SW" --table
has "--table without a value" err "switch: error: option '--table' needs a value"

# The default is ./generated/switch.table, then $MODELC_TABLE, then --table: each wins over the last.
mkdir -p generated
cp "$TABLE" generated/switch.table
run "default path" 1 "$SW" current --active-file "$T/none"
has "default path" err "switch: error: no active model: '$T/none' does not exist; run: eval \"\$(switch --set primary)\""
"$SW" list --json >"$T/out" 2>/dev/null
grep -q '"table": "generated/switch.table"' "$T/out" || fail "the default table is not generated/switch.table"
MODELC_TABLE="$T/switch-disk100.table" "$SW" list --json >"$T/out" 2>/dev/null
grep -q "\"table\": \"$T/switch-disk100.table\"" "$T/out" || fail "\$MODELC_TABLE is not used"
MODELC_TABLE="$T/none" "$SW" --table="$TABLE" list --json >"$T/out" 2>/dev/null
grep -q "\"table\": \"$TABLE\"" "$T/out" || fail "--table does not win over \$MODELC_TABLE"
rm -rf generated
export MODELC_TABLE="$TABLE"

# Tables switch cannot use: each error names the file and what is wrong, and says what to do.
bad_table() { # NAME FILE WHAT
	run "$1" 1 "$SW" --table "$2" list
	same "$1" err <<X
switch: error: $2: $3; run 'modelc build' to write it again
X
	same "$1: nothing listed" out </dev/null
}
printf 'role: primary\n' >"$T/foreign"
bad_table "foreign file" "$T/foreign" "is not a runtime table (it does not start with MODELCTB)"
: >"$T/empty"
bad_table "empty file" "$T/empty" "is not a runtime table (not a regular file of 1 byte to 1 GiB)"
size=$(wc -c <"$TABLE")
head -c 1000 "$TABLE" >"$T/cut"
bad_table "truncated" "$T/cut" "is truncated or damaged: the header says $size bytes, the file has 1000"
head -c 100 "$TABLE" >"$T/cut-header"
bad_table "truncated header" "$T/cut-header" "is truncated: 100 bytes, less than its header"
/usr/bin/python3 - "$TABLE" "$T/v2" <<'X'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[8] = 1
open(sys.argv[2], "wb").write(b)
X
bad_table "another version" "$T/v2" "has format version 1; this switch reads version 2"
/usr/bin/python3 - "$TABLE" "$T/pool" <<'X'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
nsec, at = struct.unpack_from("<II", b, 24)
sec = {struct.unpack_from("<I", b, at + 16 * i)[0]: struct.unpack_from("<III", b, at + 16 * i + 4) for i in range(nsec)}
off = sec[2][0] + sec[2][2]          # role 1, its name
struct.pack_into("<I", b, off, sec[5][1] - 2)
open(sys.argv[2], "wb").write(b)
X
bad_table "string past the pool" "$T/pool" "role 1: the string at byte 0 does not end inside the string pool"
$EDIT "$TABLE" "$T/port" settings.port=0
bad_table "number out of range" "$T/port" "settings 0: the number at byte 80 is out of range"
$EDIT "$TABLE" "$T/commit" "primary.commit=../../../../etc"
bad_table "a commit that is a path" "$T/commit" "role 3: the string at byte 32 is not a path or commit switch may use"

# Staleness: models.yaml or models.lock changed after the build. Every command warns and goes on.
touch -d '2001-01-01' "$T/catalog/models.lock"
run "stale lock" 0 "$SW" set primary
same "stale lock" err <<X
switch: warning: $TABLE is older than $T/catalog/models.lock (its size or modification time changed since the build); run 'modelc build'
X
"$SW" list --json >"$T/out" 2>/dev/null
grep -q '"stale": true' "$T/out" || fail "list --json does not say stale"
# A new build of the same catalog is not stale, and switch uses it at once.
(cd "$T/catalog" && "$BIN/modelc" build -o gen) >/dev/null 2>&1 || fail "modelc build again"
run "rebuilt" 0 "$SW" --table "$T/catalog/gen/switch.table" set primary
same "rebuilt: no warning" err </dev/null
# A table copied to a machine without the catalog: nothing to compare against; list, set and
# doctor say so, with the build time and the digest (issue 12, section 1).
mv "$T/catalog" "$T/catalog.away"
built=$("$SW" --table "$T/catalog.away/gen/switch.table" list --json 2>/dev/null | sed -n 's/.*"built": "\(.*\)",/\1/p')
digest=$(cat "$T/catalog.away/models.yaml" "$T/catalog.away/models.lock" | sha256sum | cut -d' ' -f1)
for cmd in set list; do
	arg=; [ $cmd = set ] && arg=primary
	run "catalog elsewhere: $cmd" 0 "$SW" --table "$T/catalog.away/gen/switch.table" $cmd $arg
	has "catalog elsewhere: $cmd says it could not check" err "switch: note: $T/catalog.away/gen/switch.table: built $built from catalog sha256 $digest; not checked: no '$T/catalog/models.yaml' here"
done
run "catalog elsewhere: doctor" 1 "$SW" --table "$T/catalog.away/gen/switch.table" doctor
has "catalog elsewhere: doctor" out "note: table '$T/catalog.away/gen/switch.table' built $built from 'models.yaml' (sha256 $digest); not checked: no '$T/catalog/models.yaml' here"
mv "$T/catalog.away" "$T/catalog"

finish
