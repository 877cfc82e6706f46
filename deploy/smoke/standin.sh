# Sourced by run.sh. No image can be pulled on this machine, so the base images the Dockerfiles and compose.yaml
# name are built locally under exactly those tags: a Debian bookworm minbase root filesystem plus what the real
# image carries (Bun for oven/bun, nats-server + busybox wget for nats:*-alpine). Only the stand-ins carry this
# machine's CA bundle (its egress goes through a TLS-intercepting proxy); the real Dockerfiles stay untouched.
# A tag that already exists (a real pulled image, or an earlier stand-in) is left alone.

STANDIN_CA=/etc/ssl/certs/ca-certificates.crt

# The base images named by the Dockerfiles and compose.yaml (read from the files, so they cannot drift).
bun_base_tag() { sed -n 's/^ARG BUN_IMAGE=//p' "$REPO/Dockerfile.signaling" | head -1; }
nats_tag() { sed -n 's/^ *image: *\(nats:[^ ]*\).*/\1/p' "$REPO/compose.yaml" | head -1; }

# A bookworm minbase rootfs as a tarball, made once and cached in $SMOKE_WORK.
base_rootfs() {
  local tarball="$SMOKE_WORK/bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    local dir="$SMOKE_WORK/rootfs"
    rm -rf "$dir"
    echo "smoke: debootstrap bookworm minbase" >&2
    debootstrap --variant=minbase bookworm "$dir" http://deb.debian.org/debian >"$SMOKE_WORK/debootstrap.log" 2>&1
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$tarball" .
    rm -rf "$dir"
  fi
  echo "$tarball"
}

# Unpacks the cached rootfs into a fresh directory with this machine's CA bundle in place.
fresh_rootfs() {
  local dir="$1"
  rm -rf "$dir" && mkdir -p "$dir"
  tar -C "$dir" -xf "$(base_rootfs)"
  install -D -m 0644 "$STANDIN_CA" "$dir$STANDIN_CA"
}

standin_bun() {
  local tag="$1" dir="$SMOKE_WORK/standin-bun"
  fresh_rootfs "$dir"
  install -m 0755 "$(readlink -f "$(command -v bun)")" "$dir/usr/local/bin/bun"
  ln -sf bun "$dir/usr/local/bin/bunx"
  chroot "$dir" groupadd --gid 1000 bun
  chroot "$dir" useradd --uid 1000 --gid bun --create-home --home-dir /home/bun --shell /bin/sh bun
  mkdir -p "$dir/home/bun/app"
  tar -C "$dir" -c . | docker import \
    -c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    -c "ENV SSL_CERT_FILE=$STANDIN_CA" -c "ENV NODE_EXTRA_CA_CERTS=$STANDIN_CA" \
    -c "WORKDIR /home/bun/app" -c 'CMD ["/usr/local/bin/bun"]' \
    -m "ballstream smoke-test stand-in for $tag" - "$tag" >/dev/null
  rm -rf "$dir"
}

standin_nats() {
  local tag="$1" dir="$SMOKE_WORK/standin-nats" debs="$SMOKE_WORK/debs"
  fresh_rootfs "$dir"
  mkdir -p "$debs"
  (cd "$debs" && apt-get download nats-server busybox >"$SMOKE_WORK/apt-download.log" 2>&1)
  # Keep the rootfs's merged-/usr symlinks (/bin -> usr/bin) while unpacking (plain `dpkg -x` replaces them).
  for deb in "$debs"/*.deb; do dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$dir"; done
  ln -sf /usr/sbin/nats-server "$dir/usr/local/bin/nats-server"
  ln -sf /usr/bin/busybox "$dir/usr/local/bin/wget"
  mkdir -p "$dir/etc/nats"
  printf 'port: 4222\nhttp_port: 8222\n' >"$dir/etc/nats/nats-server.conf"
  tar -C "$dir" -c . | docker import \
    -c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    -c 'CMD ["nats-server", "--config", "/etc/nats/nats-server.conf"]' \
    -m "ballstream smoke-test stand-in for $tag" - "$tag" >/dev/null
  rm -rf "$dir" "$debs"
}

ensure_standins() {
  local bun_tag nats
  bun_tag="$(bun_base_tag)"; nats="$(nats_tag)"
  [ -n "$bun_tag" ] && [ -n "$nats" ] || { echo "smoke: cannot read base image tags" >&2; return 1; }
  docker image inspect "$bun_tag" >/dev/null 2>&1 || { echo "smoke: stand-in $bun_tag"; standin_bun "$bun_tag"; }
  docker image inspect "$nats" >/dev/null 2>&1 || { echo "smoke: stand-in $nats"; standin_nats "$nats"; }
}
