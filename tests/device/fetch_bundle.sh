#!/bin/sh
# Pack build/bin/fetch with every shared library it loads (glibc and its loader included)
# into build/fetch-bundle/, for a machine without libcurl/libsodium/jansson headers or with
# an older glibc. Run it there as: build/fetch-bundle/fetch ARGS (a wrapper that starts the
# bundled loader with --library-path). Usage: sh tests/device/fetch_bundle.sh
set -eu
cd "$(dirname "$0")/../.."
[ -x build/bin/fetch ] || make build/bin/fetch >/dev/null
out=build/fetch-bundle
rm -rf "$out"
mkdir -p "$out/lib"
cp build/bin/fetch "$out/lib/fetch.bin"
ldd build/bin/fetch | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}' | sort -u | while read -r lib; do
	cp -L "$lib" "$out/lib/"
done
loader=$(cd "$out/lib" && ls ld-linux-*.so.* | head -n 1)
cat >"$out/fetch" <<SH
#!/bin/sh
# fetch with its own libraries; see tests/device/fetch_bundle.sh
here=\$(cd "\$(dirname "\$0")" && pwd)
exec "\$here/lib/$loader" --library-path "\$here/lib" "\$here/lib/fetch.bin" "\$@"
SH
chmod +x "$out/fetch"
du -sh "$out" | awk '{print "fetch_bundle: " $2 " is " $1}'
"$out/fetch" --version
