#!/usr/bin/env bash
# Builds Loom's native helpers (resources/native: loom-init, nodump.so, forker.so) for x86_64 and aarch64
# into resources/native/bin, where they are committed: a user's machine needs no compiler (the
# desktop app and `npm ci` ship them as they are), and they run in any image (no libc).
#
# Usage: scripts/build-native.sh [--check]
#   --check: build into a temporary directory and fail if the result differs from the committed
#            files (CI runs this, as it checks the generated protobuf code).
# Needs gcc and gcc-aarch64-linux-gnu (Debian bookworm's 12.2, which the committed files were
# built with: another compiler version may lay out the same code differently).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../resources/native"

out=bin
if [[ ${1:-} == --check ]]; then out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi

declare -A cc=([x86_64]=gcc [aarch64]=aarch64-linux-gnu-gcc)
for arch in x86_64 aarch64; do
  compiler=${cc[$arch]}
  command -v "$compiler" >/dev/null || {
    echo "build-native: $compiler is missing (apt-get install -y gcc gcc-aarch64-linux-gnu)" >&2
    exit 1
  }
  # Freestanding, reproducible: no libc, no build id, no paths of this machine in the output.
  flags=(-Os -nostdlib -ffreestanding -fno-builtin -fno-stack-protector -fno-asynchronous-unwind-tables
         -ffile-prefix-map="$PWD"=. -Wall -Wextra -Werror
         -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--hash-style=gnu -Wl,-z,max-page-size=4096 -Wl,-z,noseparate-code)
  # No CET landing pads on x86_64: nothing here is reached indirectly.
  [[ $arch == x86_64 ]] && flags+=(-fcf-protection=none)
  "$compiler" "${flags[@]}" -static -fno-pie -no-pie -o "$out/loom-init-$arch" loom-init.c
  "$compiler" "${flags[@]}" -shared -fPIC -o "$out/nodump-$arch.so" nodump.c
  "$compiler" "${flags[@]}" -shared -fPIC -o "$out/forker-$arch.so" forker.c
  built=("$out/loom-init-$arch" "$out/nodump-$arch.so" "$out/forker-$arch.so")
  "${compiler%gcc}strip" --strip-all "${built[@]}" 2>/dev/null || strip --strip-all "${built[@]}"
done

if [[ $out != bin ]]; then
  for f in bin/*; do
    cmp -s "$f" "$out/$(basename "$f")" || {
      echo "build-native: $f differs from what resources/native/*.c build to: run scripts/build-native.sh and commit" >&2
      exit 1
    }
  done
  [[ $(ls bin | wc -l) == $(ls "$out" | wc -l) ]] || { echo "build-native: bin/ holds other files than the build makes" >&2; exit 1; }
  echo "build-native: bin/ matches the sources"
else
  ls -l bin
fi
