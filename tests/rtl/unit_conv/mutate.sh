#!/usr/bin/env bash
# Mutation check of the converter unit vectors: each mutation below is a plausible bug in
# fb_bfp_converter.v / fb_lfsr16.v; run.sh must FAIL on every one (and pass on the original).
#   tests/rtl/unit_conv/mutate.sh            (FASTBFP_BIN as for run.sh)
# Prints one line per mutation, "caught" or "MISSED", and exits 0 only when all are caught.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rtl="$here/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The vectors, generated once (also the check that the unmutated RTL passes).
KEEP="$work/vec" "$here/run.sh" >"$work/base.log" 2>&1 || { cat "$work/base.log"; echo "mutate.sh: the original RTL fails"; exit 1; }

# file @ sed expression (basic regex) @ what the bug is
mutations=(
    "fb_bfp_converter.v@s/(r >= 18'sd40)/(r >= 18'sd32)/@r >= 32 flushed to 0 (stochastic can still round up there)"
    "fb_bfp_converter.v@s/r_low  = (r <= 18'sd0);/r_low  = 1'b0;/@r <= 0 not saturated (pinned base)"
    "fb_bfp_converter.v@s/inc = f\[39\] \& ((|f\[38:0\]) | q\[0\]);/inc = f[39] \& (|f[38:0]);/@even: ties always down"
    "fb_bfp_converter.v@s/inc = f\[39\] \& ((|f\[38:0\]) | q\[0\]);/inc = f[39];/@even rounds ties away"
    "fb_bfp_converter.v@s/2'd1:    inc = f\[39\];/2'd1:    inc = f[39] \& (|f[38:0]);/@nearest: ties down"
    "fb_bfp_converter.v@s/{1'b0, f\[39 -: NB\]}/{1'b0, f[38 -: NB]}/@noise aligned one bit low"
    "fb_bfp_converter.v@s/xi\[31\] && (mag != 16'd0)/xi[31]/@sign kept on a zero magnitude"
    "fb_bfp_converter.v@s/{mag, {CW{1'b0}}} >> m;/{mag, {CW{1'b0}}} >> (2 * chunks);/@odd m not padded with a zero LSB"
    "fb_bfp_converter.v@s/e_b      = clamp ? top_b : grp_b;/e_b      = grp_b;/@no clamp of E to the pinned range"
    "fb_bfp_converter.v@s/(grp_b < eb_b)/(grp_b <= eb_b)/@E = E_base treated as underflow"
    "fb_bfp_converter.v@s/.step(in_valid)/.step(in_valid \&\& rounding == 2'd3)/@lanes step only in stochastic mode"
    "fb_bfp_converter.v@s/.reseed(first)/.reseed(1'b0)/@no reseed per job"
    "fb_bfp_converter.v@s/16'h1F35 \* job/16'h1F35 * (job + 16'd1)/@job seed off by one job"
    "fb_bfp_converter.v@s/(rq > {8'd0, max_mag})/(rq[15:0] > max_mag[15:0])/@saturation compares 16 bits only"
    "fb_lfsr16.v@s/(LANE + 1)/(LANE)/@lane seed stride from lane 0"
    "fb_lfsr16.v@s/? 16'h0001 : lane_raw/? 16'h0000 : lane_raw/@zero lane seed not replaced by 1"
)

caught=0
missed=0
for mu in "${mutations[@]}"; do
    IFS='@' read -r file expr what <<<"$mu"
    mdir="$work/rtl"
    rm -rf "$mdir"
    mkdir -p "$mdir"
    cp "$rtl/fb_bfp_converter.v" "$rtl/fb_lfsr16.v" "$rtl/tb_converter.v" "$mdir/"
    sed -i "$expr" "$mdir/$file"
    if cmp -s "$rtl/$file" "$mdir/$file"; then
        echo "BROKEN mutation (no change): $what"
        missed=$((missed + 1))
        continue
    fi
    if RTL_DIR="$mdir" KEEP="$work/vec" REUSE=1 "$here/run.sh" >"$work/m.log" 2>&1; then
        echo "MISSED: $what"
        missed=$((missed + 1))
    else
        echo "caught: $what ($(grep -c '^FAIL' "$work/m.log") of $(grep -cE '^(PASS|FAIL)' "$work/m.log") configurations fail)"
        caught=$((caught + 1))
    fi
done
echo "$caught caught, $missed missed"
[[ $missed -eq 0 ]]
