#!/bin/sh
# KT1 Track: on a machine WITH internet access, make the folder to carry to the air-gapped
# server (docs/operations.md, step 1):
#
#   deploy/make-release.sh [OUT]       (default: ./kt1-release-<commit>)
#
# OUT/wheelhouse  every Python package as a wheel: KT1 Track and all it depends on, plus
#                 pip, setuptools and wheel; built with this machine's python3.11, which must
#                 match the server's (Debian 12: CPython 3.11, x86_64)
# OUT/deploy, OUT/docs   the server's files and this guide
# OUT/SHA256SUMS  to check the copy on arrival: (cd OUT && sha256sum -c SHA256SUMS)
set -eu
cd "$(dirname "$0")/.."
version=$(git describe --always --dirty 2>/dev/null || echo unknown)
out=${1:-kt1-release-$version}
py=${PYTHON:-python3.11}
"$py" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Debian 12 runs Python 3.11"'
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
"$py" -m venv "$build/venv"
"$build/venv/bin/pip" install --quiet --upgrade pip
mkdir -p "$out"
"$build/venv/bin/pip" wheel --quiet --wheel-dir "$out/wheelhouse" .
"$build/venv/bin/pip" download --quiet --dest "$out/wheelhouse" --only-binary=:all: \
    pip setuptools wheel
rm -rf "$out/deploy" "$out/docs"
cp -r deploy docs "$out/"
echo "$version" > "$out/VERSION"
(cd "$out" && find . -type f ! -name SHA256SUMS | sort | xargs sha256sum > SHA256SUMS)
echo "==> $out: $(ls "$out/wheelhouse" | wc -l) wheels, $(du -sh "$out" | cut -f1)"
