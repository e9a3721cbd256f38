#!/usr/bin/env bash
# Publishability of every published package: builds dist/ (tsc -p tsconfig.build.json), packs it as npm would
# (`pnpm pack`: workspace:* becomes the version), then lints the tarball with publint (strict) and
# @arethetypeswrong/cli (ESM-only profile: the packages ship no CommonJS on purpose), and checks that the
# tarball holds a README and the type declarations. Prints one line per package; exits non-zero if any fails.
set -uo pipefail
cd "$(dirname "$0")/.."

PACKAGES="core conformance backend-tfjs backend-gpujs figures wasm-linalg"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0

for p in $PACKAGES; do
  dir="packages/$p"
  echo "::: $dir"
  if ! (cd "$dir" && pnpm run -s build); then echo "FAIL $dir: build"; failed=$((failed + 1)); continue; fi
  tgz=$(cd "$dir" && pnpm pack --pack-destination "$out" 2>/dev/null | grep '\.tgz$' | tail -1)
  if [ -z "$tgz" ] || [ ! -f "$tgz" ]; then echo "FAIL $dir: pnpm pack"; failed=$((failed + 1)); continue; fi
  ok=1
  listing=$(tar -tzf "$tgz")
  for f in package/README.md package/package.json package/dist/index.js package/dist/index.d.ts; do
    grep -qx "$f" <<<"$listing" || { echo "FAIL $dir: $f missing from the tarball"; ok=0; }
  done
  if grep -q '"workspace:' <(tar -xzOf "$tgz" package/package.json); then echo "FAIL $dir: workspace: protocol left in package.json"; ok=0; fi
  pnpm exec publint --strict "$tgz" || ok=0
  pnpm exec attw --pack "$tgz" --profile esm-only --format table-flipped || ok=0
  if [ "$ok" = 1 ]; then echo "ok   $dir"; else echo "FAIL $dir"; failed=$((failed + 1)); fi
done

echo "package checks: $failed failed"
[ "$failed" -eq 0 ]
