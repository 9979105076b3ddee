#!/bin/sh
# Run a command as if on an AVX2-only machine (needs root, Linux): /proc/cpuinfo without the
# AVX-512, VNNI and AMX flags, which nstlab's precision="auto" and memory estimate read, and
# TensorFlow without its oneDNN kernels, as TensorFlow chooses on such a CPU. Clock, caches and
# memory stay this machine's, so it approximates an AVX2-only host, it does not measure one.
# bubblewrap cannot build the grading sandbox under it (no fresh /proc over the bind mount).
#
#   sudo benchmarks/as_avx2_only.sh env -u CI bash .ci/run
set -eu
fake="$(mktemp)"
sed -E 's/ (avx512[a-z0-9_]*|amx[a-z0-9_]*|avx_vnni[a-z0-9_]*)//g' /proc/cpuinfo > "$fake"
exec unshare -m sh -c 'mount --bind "$0" /proc/cpuinfo && TF_ENABLE_ONEDNN_OPTS=0 exec "$@"' \
    "$fake" "$@"
