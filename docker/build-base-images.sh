#!/usr/bin/env bash
# Build local stand-ins for the public base images the Dockerfiles use, for machines that
# cannot pull from a registry (the test's builder runs this only when a base is absent).
#
# Each stand-in is tagged exactly as the Dockerfiles name it, so the Dockerfiles stay the ones a
# user runs anywhere. They are made from a Debian bookworm minbase root (debootstrap, from the
# mirror in this host's apt configuration) plus, where Debian's version is too old, the host's
# own toolchain (Rust from rustup, Node, uv). Stand-ins are close, not identical: the Python
# stand-in is Debian's python3 (3.11.x) under the python image's tag.
#
# Usage: docker/build-base-images.sh [--force]    (needs root, debootstrap and a Docker engine)
set -euo pipefail

DEBIAN_IMAGE=debian:bookworm-20250520-slim
PYTHON_IMAGE=python:3.11.13-slim-bookworm
NODE_IMAGE=node:20.20.2-bookworm-slim
RUST_IMAGE=rust:1.95.0-slim-bookworm
UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

CACHE=${TITAN_BASE_CACHE:-$HOME/.cache/titan/base}
FORCE=${1:-}
export DOCKER_BUILDKIT=0

have() { [ "$FORCE" != --force ] && docker image inspect "$1" >/dev/null 2>&1; }
log() { printf 'base-images: %s\n' "$*" >&2; }

mirror() {
  # The first Debian (non-security) URI of the host's apt sources, deb822 or one-line style.
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1 || true)
  [ -n "$uri" ] || uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v security | head -1 || true)
  [ -n "$uri" ] || { log "no Debian mirror in /etc/apt"; exit 1; }
  echo "$uri"
}

minbase() {
  local root=$CACHE/rootfs-minbase
  if [ ! -f "$root/.complete" ]; then
    command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
    rm -rf "$root" && mkdir -p "$CACHE"
    log "debootstrap bookworm minbase (a few minutes)"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$(mirror)" >"$CACHE/debootstrap.log"
    touch "$root/.complete"
  fi
  echo "$root"
}

build_debian() {
  have "$DEBIAN_IMAGE" && return
  local root
  root=$(minbase)
  log "import $DEBIAN_IMAGE"
  # Debian's own CA bundle only, as in the real image. A host behind a TLS-inspecting proxy lends
  # its CA to a build as a BuildKit secret (tests/compose/compose.build-host.yml), never to a layer.
  tar -C "$root" --exclude=./.complete --exclude=./var/cache/apt/archives/*.deb \
    --exclude='./var/lib/apt/lists/*' -c . |
    docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' - "$DEBIAN_IMAGE" >/dev/null
}

# A stand-in built FROM the Debian stand-in; $2 is the Dockerfile body after FROM, $3 the context.
build_from_debian() {
  local tag=$1 body=$2 ctx=${3:-}
  have "$tag" && return
  log "build $tag"
  local dir
  dir=${ctx:-$(mktemp -d)}
  printf 'FROM %s\n%s\n' "$DEBIAN_IMAGE" "$body" >"$dir/Dockerfile.base"
  docker build -q --network host -f "$dir/Dockerfile.base" -t "$tag" "$dir" >/dev/null
  [ -n "$ctx" ] || rm -rf "$dir"
}

APT='apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends'
CLEAN='apt-get clean && rm -rf /var/lib/apt/lists/*'

build_python() {
  build_from_debian "$PYTHON_IMAGE" "RUN $APT python3 ca-certificates >/dev/null && $CLEAN \\
 && ln -s /usr/bin/python3.11 /usr/local/bin/python3.11 && ln -s python3.11 /usr/local/bin/python3 \\
 && ln -s python3 /usr/local/bin/python
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
CMD [\"python3\"]"
}

build_node() {
  have "$NODE_IMAGE" && return
  local dir
  dir=$(mktemp -d)
  cp "$(command -v node)" "$dir/node"
  cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$dir/npm"
  build_from_debian "$NODE_IMAGE" "COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && node --version
CMD [\"node\"]" "$dir"
  rm -rf "$dir"
}

build_rust() {
  have "$RUST_IMAGE" && return
  local tc dir
  tc=$(rustc --print sysroot)
  dir=$(mktemp -d)
  mkdir -p "$dir/toolchain/lib"
  cp -a "$tc/bin" "$dir/toolchain/"
  cp -a "$tc"/lib/*.so* "$tc/lib/rustlib" "$dir/toolchain/lib/"
  rm -rf "$dir"/toolchain/lib/rustlib/{src,rustc-src} "$dir"/toolchain/bin/{rust-gdb*,rust-lldb}
  build_from_debian "$RUST_IMAGE" "COPY toolchain /usr/local/rustup/toolchains/host
RUN $APT gcc libc6-dev >/dev/null && $CLEAN && mkdir -p /usr/local/cargo/bin \\
 && for b in cargo rustc rustdoc; do ln -s /usr/local/rustup/toolchains/host/bin/\$b /usr/local/cargo/bin/\$b; done
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$dir"
  rm -rf "$dir"
}

real_bin() {
  # The binary itself, not a version manager's shim script.
  local path
  path=$(command -v "$1")
  if [ "$(head -c4 "$path" | od -An -c | tr -d ' ')" != '177ELF' ] && command -v pyenv >/dev/null; then
    path=$(pyenv which "$1")
  fi
  echo "$path"
}

build_uv() {
  have "$UV_IMAGE" && return
  log "import $UV_IMAGE"
  local dir
  dir=$(mktemp -d)
  cp "$(real_bin uv)" "$dir/uv"
  cp "$(real_bin uvx)" "$dir/uvx"
  tar -C "$dir" -c . | docker import --change 'ENTRYPOINT ["/uv"]' - "$UV_IMAGE" >/dev/null
  rm -rf "$dir"
}

build_debian
build_python
build_node
build_rust
build_uv
log "ready: $DEBIAN_IMAGE $PYTHON_IMAGE $NODE_IMAGE $RUST_IMAGE $UV_IMAGE"
