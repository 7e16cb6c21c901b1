#!/bin/sh
# A real consumer reads our cache: @huggingface/hub's scanCacheDir lists the fetched model
# with the right commit, refs, files and sizes, and no warnings.
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
command -v node >/dev/null 2>&1 || { echo "node is not installed" >&2; exit 77; }
[ -d node_modules/@huggingface/hub ] || { echo "npm package @huggingface/hub is not installed (scripts/deps.sh)" >&2; exit 77; }
fh_start --gen org/tiny:100000 --manifests "$T/man" --role chat=org/tiny
C="$T/cache"
"$BIN/fetch" --manifests "$T/man" --cache "$C" >"$T/o1" 2>&1 || { cat "$T/o1"; fail "fetch failed"; }
cat >"$T/scan.mjs" <<'JS'
import { scanCacheDir } from "@huggingface/hub";
import { readFileSync } from "node:fs";
const [cache, manifest] = process.argv.slice(2);
const m = JSON.parse(readFileSync(manifest, "utf8"));
const info = await scanCacheDir(cache);
const fail = (msg) => { console.error("scanCacheDir: " + msg); process.exit(1); };
if (info.warnings.length) fail("warnings: " + info.warnings.map(String).join("; "));
const repo = info.repos.find((r) => r.id.name === m.repo && r.id.type === "model");
if (!repo) fail("repo " + m.repo + " not listed");
if (repo.revisions.length !== 1) fail("revisions: " + repo.revisions.length);
const rev = repo.revisions[0];
if (rev.commitOid !== m.commit) fail("commit " + rev.commitOid);
if (!rev.refs.includes("main")) fail("refs " + rev.refs);
const got = new Map(rev.files.map((f) => [f.path.slice(rev.path.length + 1), f.blob.size]));
// scanSnapshotDir does not descend into sub-directories (a limitation of the package), so
// only top-level files are compared.
const top = m.files.filter((f) => !f.path.includes("/"));
for (const f of top) if (got.get(f.path) !== f.size) fail(f.path + ": size " + got.get(f.path) + ", pinned " + f.size);
if (got.size !== top.length) fail("files " + [...got.keys()]);
console.log("ok " + repo.id.name + " " + rev.commitOid + " " + got.size + " files");
JS
cp "$T/scan.mjs" ./.scan-fetch-$$.mjs
FH_EXTRA_CLEANUP="rm -f ./.scan-fetch-$$.mjs"
node ./.scan-fetch-$$.mjs "$C" "$T/man/chat.json" || fail "@huggingface/hub does not accept the cache"
echo ok
