#!/usr/bin/env bash
# Unit check of fb_bfp_converter / fb_lfsr16 through tb_converter.v, without the golden
# exporter: gen.py makes converter vectors with `fastbfp quantize --packed` (E_f and chunk
# planes) and `fastbfp lfsr` (noise), cross-checked against an independent model of DESIGN
# §2.1 / §3, for several configurations (g 1/4/5/8/16/64, e 1/3/4/6/8, noise bits 1/4/8/12/16,
# latency 0/1/2/3/7, m 1..16, all four roundings, zeros, subnormals, ties, saturation,
# elements hundreds of binades below their group maximum, underflowing groups, pinned E_base,
# job numbers wrapping at 2^16). Every CV dump line must equal the expected line exactly
# (cycle, job, group, hex digits and digit count) and the testbench must report no noise or
# E_f/plane mismatch against conv_out.hex; its per-group flag counts (flushed, underflow,
# saturated), summed, must equal fastbfp's (quantize) and the model's.
#
#   tests/rtl/unit_conv/run.sh [CONFIG ...]     (default: every configuration in gen.py)
#   FASTBFP_BIN   the fastbfp binary (default: cargo build --release, honouring CARGO_TARGET_DIR)
#   KEEP          a folder to keep the vectors, builds and dumps in
#   REUSE=1       with KEEP: reuse vectors already generated there (mutate.sh does)
#   RTL_DIR       where fb_bfp_converter.v, fb_lfsr16.v, tb_converter.v are (default: tests/rtl)
# Needs python3 with numpy, iverilog and vvp. Exit 0 only when every configuration passes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
rtl="${RTL_DIR:-$here/..}"

bin="${FASTBFP_BIN:-}"
if [[ -z "$bin" && "${REUSE:-}" != 1 ]]; then
    (cd "$root" && cargo build --release --quiet)
    bin="${CARGO_TARGET_DIR:-$root/target}/release/fastbfp"
fi
export FASTBFP_BIN="$bin"

if [[ -n "${KEEP:-}" ]]; then
    work="$KEEP"
    mkdir -p "$work"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi

if [[ $# -gt 0 ]]; then
    configs=("$@")
else
    configs=($(python3 -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import gen; print(" ".join(gen.CONFIGS))' "$here"))
fi

passed=0
failed=0
for cfg in "${configs[@]}"; do
    dir="$work/$cfg"
    if [[ "${REUSE:-}" != 1 || ! -f "$dir/expected_cv.txt" ]]; then
        rm -rf "$dir"
        mkdir -p "$dir"
        python3 "$here/gen.py" "$dir" "$cfg"
    fi
    rm -f "$dir/conv.vvp" "$dir/dump_conv.txt" "$dir/tb.log"
    iverilog -g2005 -Wall -Wno-timescale -I "$dir" -o "$dir/conv.vvp" \
        "$rtl/tb_converter.v" "$rtl/fb_bfp_converter.v" "$rtl/fb_lfsr16.v"
    (cd "$dir" && vvp -n conv.vvp +dump=dump_conv.txt >tb.log)
    summary="$(grep '^tb_converter: .* groups in' "$dir/tb.log" || true)"
    if python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
want = [l.split() for l in open(f"{d}/expected_cv.txt") if l.strip()]
got = [l.split("#")[0].split() for l in open(f"{d}/dump_conv.txt")]
got = [l for l in got if l]
bad = 0
for k in range(max(len(want), len(got))):
    w = want[k] if k < len(want) else None
    g = got[k] if k < len(got) else None
    if w != g:
        bad += 1
        if bad <= 5:
            print(f"    line {k}: expected {' '.join(w) if w else '(none)'}, dump has {' '.join(g) if g else '(none)'}")
print(f"    {len(want)} expected CV lines, {len(got)} dumped, {bad} differ")
sys.exit(1 if bad else 0)
PY
    then
        if grep -q ' 0 noise mismatches, 0 E_f/plane mismatches' <<<"$summary" &&
            grep -qF "(flags: $(cat "$dir/expected_flags.txt"))" <<<"$summary"; then
            passed=$((passed + 1))
            echo "PASS $cfg: $summary"
            continue
        fi
    fi
    failed=$((failed + 1))
    echo "FAIL $cfg: ${summary:-no summary}"
    grep -v '^tb_converter: .* groups in' "$dir/tb.log" | head -10 | sed 's/^/    /' || true
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
