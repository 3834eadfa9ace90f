#!/usr/bin/env bash
# Unit check of fb_fp32_add and fb_fp32_round against numpy (gen_vectors.py is the oracle):
# builds ../tb_fp32_units.v with Icarus, runs COUNT vectors, compares every result.
#   tests/rtl/unit/run.sh [COUNT] [SEED]        (default 50000 vectors, seed 1)
# Needs python3 with numpy, iverilog and vvp. Exit 0 only when every vector matches.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rtl="$here/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
n="$(python3 "$here/gen_vectors.py" "${1:-50000}" "${2:-1}")"
iverilog -g2005 -Wall -Wno-timescale -o units.vvp "$rtl/tb_fp32_units.v" "$rtl/fb_fp32_add.v" "$rtl/fb_fp32_round.v"
vvp -n units.vvp +in=vectors.hex +n="$n" +out=results.txt >/dev/null
python3 - "$n" <<'PY'
import sys
n = int(sys.argv[1])
vec = [l.strip() for l in open("vectors.hex")]
exp = [l.split() for l in open("expected.txt")]
got = [l.split() for l in open("results.txt")]
assert len(got) == n == len(exp), (len(got), n, len(exp))
bad_add = bad_rnd = 0
for i, (v, e, g) in enumerate(zip(vec, exp, got)):
    a, b, p, x = v[0:8], v[8:16], int(v[16:28], 16), int(v[28:32], 16)
    p -= (1 << 48) if p >> 47 else 0
    x -= (1 << 16) if x >> 15 else 0
    if e[0] != g[0].lower():
        bad_add += 1
        if bad_add <= 5:
            print(f"add   #{i}: {a} + {b}: want {e[0]}, got {g[0]}")
    if e[1] != g[1].lower():
        bad_rnd += 1
        if bad_rnd <= 5:
            print(f"round #{i}: {p} * 2^{x}: want {e[1]}, got {g[1]}")
sub = sum(1 for e in exp if int(e[0], 16) & 0x7F800000 == 0 and int(e[0], 16) & 0x7FFFFF)
inf = sum(1 for e in exp if int(e[1], 16) & 0x7FFFFFFF == 0x7F800000)
print(f"{n} vectors: {bad_add} add mismatches, {bad_rnd} round mismatches "
      f"({sub} subnormal sums, {inf} rounds to infinity)")
sys.exit(1 if bad_add or bad_rnd else 0)
PY
