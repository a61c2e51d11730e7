#!/usr/bin/env bash
# From zero on a bare Debian 12: builds a minimal Debian root (debootstrap --variant=minbase
# bookworm), clones this repository's committed HEAD into it and, inside a chroot, runs what a
# new user runs: the README's train command (`bash examples/alexnet_cifar10.sh --summary`, which
# installs the packages with .ci/install-deps, configures, builds and runs the example) and the
# consumer project (add_subdirectory and find_package after `cmake --install`).
#
#   sudo bash tests/fresh_machine.sh          # exit 0 = passed, 77 = skipped (not root)
#
# Needs root (debootstrap, chroot, mount) and the Debian mirror the host's apt uses (read from
# /etc/apt/sources.list{,.d}); nothing else is reached. The bare root is built once and cached as
# a tarball in $CTNN_FRESH_CACHE (default /var/cache/ctnn-fresh, outside the repository); each run
# unpacks a fresh copy, so no package from an earlier run is installed. Downloaded .deb files are
# kept in the cache too (apt's own archive folder, bind-mounted), which only saves the download.
# The work tree's uncommitted changes are not tested: the chroot gets `git clone` of HEAD.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${CTNN_FRESH_CACHE:-/var/cache/ctnn-fresh}
suite=bookworm

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh_machine: SKIPPED: needs root (debootstrap, chroot, mount); run: sudo bash tests/fresh_machine.sh"
  exit 77
fi
if ! command -v debootstrap >/dev/null; then
  echo "fresh_machine: installing debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
fi
for tool in git tar mountpoint; do
  command -v "$tool" >/dev/null || { echo "fresh_machine: error: '$tool' not found"; exit 1; }
done

# The mirror the host's apt uses for $suite (deb822 .sources or one-line .list format).
mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case "$f" in
      *.sources)
        awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
          { uris = ""; ok = 0; enabled = 1
            for (i = 1; i <= NF; i++) {
              if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uris = u[1] }
              if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (k = 2; k <= n; k++) if (s[k] == suite) ok = 1 }
              if ($i ~ /^Enabled:[ \t]*no/) enabled = 0
            }
            if (ok && enabled && uris != "") { print uris; exit } }' "$f" ;;
      *)
        awk -v suite="$suite" '$1 == "deb" { i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /^\[/ || $i ~ /\]$/) i++;
          if ($(i + 1) == suite) { print $i; exit } }' "$f" ;;
    esac
  done | head -n 1
}
url=$(mirror)
[ -n "$url" ] || { echo "fresh_machine: error: no '$suite' entry in /etc/apt/sources.list{,.d}"; exit 1; }

start=$(date +%s)
mkdir -p "$cache/archives/partial"
template=$cache/$suite-minbase.tar
if [ ! -f "$template" ]; then
  echo "== fresh_machine: building the bare $suite root from $url (once; cached as $template)"
  tmp=$(mktemp -d /var/tmp/ctnn-debootstrap.XXXXXX)
  debootstrap --variant=minbase "$suite" "$tmp/root" "$url" >"$tmp/debootstrap.log" 2>&1 ||
    { tail -n 30 "$tmp/debootstrap.log"; echo "fresh_machine: error: debootstrap failed"; exit 1; }
  tar -C "$tmp/root" -cf "$template.part" . && mv "$template.part" "$template"
  rm -rf "$tmp"
fi

work=$(mktemp -d /var/tmp/ctnn-fresh.XXXXXX)
root=$work/root
cleanup() {
  local m
  for m in var/cache/apt/archives dev/pts dev proc; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
  done
  # Only remove the copy when nothing is mounted in it any more.
  if ! grep -q " $root/" /proc/mounts; then rm -rf "$work"; fi
}
trap cleanup EXIT
mkdir -p "$root"
tar -C "$root" -xf "$template"
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"  # no daemons start
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount --bind "$cache/archives" "$root/var/cache/apt/archives"
rm -f "$root/etc/apt/apt.conf.d/docker-clean"  # keep downloaded .debs in the cache (if such a file exists)

commit=$(git -C "$repo" rev-parse HEAD)
git clone -q --no-hardlinks "$repo" "$root/root/ctnn"
git -C "$root/root/ctnn" checkout -q "$commit"
echo "== fresh_machine: $(git -C "$repo" log -1 --format='%h %s' "$commit") in a bare $suite chroot ($root)"

# What a new user types, as root in the chroot, with a minimal environment (no host PATH tweaks).
cat >"$root/root/fresh.sh" <<'EOF'
set -euo pipefail
cd /root/ctnn
echo "== README train command: bash examples/alexnet_cifar10.sh --summary"
bash examples/alexnet_cifar10.sh --summary | tee /root/summary.txt
grep -q "Total params" /root/summary.txt || { echo "fresh_machine: no summary table"; exit 1; }
echo "== consumer project (add_subdirectory and find_package)"
bash tests/consumer/run.sh build
echo "== fresh machine: passed"
EOF
# The full log (apt, cmake, compiler) goes to $cache/last-run.log; the screen gets the steps and,
# on failure, the log's end.
log=$cache/last-run.log
status=0
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/bash /root/fresh.sh >"$log" 2>&1 || status=$?
secs=$(($(date +%s) - start))
if [ "$status" -eq 0 ]; then
  grep -E '^(== |-- |installing: |loss |readme_sample|Total params)' "$log"
  echo "fresh_machine: PASSED in ${secs} s (log: $log)"
else
  grep -E '^(== |-- |installing: )' "$log" || true
  echo "--- last 40 lines of $log"
  tail -n 40 "$log"
  echo "fresh_machine: FAILED (exit $status) after ${secs} s (log: $log)"
fi
exit "$status"
