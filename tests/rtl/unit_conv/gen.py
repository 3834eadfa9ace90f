#!/usr/bin/env python3
"""Converter unit vectors for tb_converter.v, made with fastbfp itself (no golden exporter
needed): `fastbfp quantize --packed` gives E_f and the chunk planes of every group, `fastbfp
lfsr` the lane noise. Also an independent model of DESIGN §2.1 / §3 written from the text
(unbounded Python integers), which must agree with fastbfp on every group, and which alone
supplies the expected values of the pinned-E_base jobs (quantize always uses a per-tensor base).

    gen.py OUTDIR NAME          writes OUTDIR/{conv_in.hex, conv_out.hex, golden.vh, expected_cv.txt}

NAME picks a configuration from CONFIGS below. Env FASTBFP_BIN: the fastbfp binary.
Jobs of a configuration run back to back in one file, as the golden exporter lays them out:
one group per line, `first` on each job's first group, job numbers consecutive from
`first_job` (mod 2^16 on the wire). Quantize converts as job 0; a job j's noise equals job 0's
under the run seed (seed + 0x1F35 * j) mod 2^16, so every job is run with that seed.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROUNDINGS = ["truncate", "nearest", "even", "stochastic"]
MODE_CODE = {"truncate": 0, "nearest": 1, "even": 2, "stochastic": 3}


def jobs_all_m(ms, per_job_rows, cols):
    return [dict(m=m, rounding=r, rows=per_job_rows, cols=cols) for m in ms for r in ROUNDINGS]


# name: g, e (E_BITS), nb (NOISE_BITS), lat (LATENCY), seed, first_job, spread (max exponent
# distance inside a group), jobs, pinned (list of pinned-base jobs, model only).
CONFIGS = {
    # the FAST default: g 16, e 8, every m 1..16 with every rounding
    "g16e8": dict(g=16, e=8, nb=8, lat=7, seed=0xACE1, first_job=0, spread=60,
                  jobs=jobs_all_m(range(1, 17), 6, 37)),
    # e = 4 (FAST's exponent field): groups far below the tensor maximum underflow
    "g16e4": dict(g=16, e=4, nb=8, lat=7, seed=0x2468, first_job=3, spread=40, tensor_spread=30,
                  jobs=jobs_all_m([1, 2, 3, 4, 6, 8], 8, 48)),
    # odd group, 4 noise bits, short pipeline, job numbers wrapping past 2^16
    "g5e6": dict(g=5, e=6, nb=4, lat=3, seed=0x1234, first_job=65533, spread=45,
                 jobs=jobs_all_m(range(1, 9), 9, 23)),
    # one lane, 16 noise bits, combinational converter
    "g1e8": dict(g=1, e=8, nb=16, lat=0, seed=0xBEEF, first_job=7, spread=0,
                 jobs=jobs_all_m([1, 2, 5, 8, 16], 40, 3)),
    # 64 lanes, 1 noise bit, latency 1
    "g64e8": dict(g=64, e=8, nb=1, lat=1, seed=0x0001, first_job=1, spread=80,
                  jobs=jobs_all_m([2, 4, 7, 8], 3, 150)),
    # job seed 0x61C9 makes lane 0's reseed value 0 -> 1; e = 1; 12 noise bits
    "g4e1": dict(g=4, e=1, nb=12, lat=2, seed=0x61C9, first_job=0, spread=30, tensor_spread=3,
                 jobs=jobs_all_m([1, 3, 4, 6], 12, 10)),
    # 16 noise bits with elements up to 50 binades down: stochastic round-ups up to r = 39
    "g8n16": dict(g=8, e=8, nb=16, lat=5, seed=0x8001, first_job=2, spread=50,
                  jobs=jobs_all_m([1, 2, 4, 6, 8, 11, 16], 12, 21)),
    # stochastic only, 16 noise bits, many groups: enough lane noise near 2^16 for carry
    # boundaries at r = 30..35
    "stoch16": dict(g=16, e=8, nb=16, lat=7, seed=0x5A5A, first_job=9, spread=50,
                    jobs=[dict(m=m, rounding="stochastic", rows=120, cols=32) for m in (1, 2, 4, 5, 8, 16)]),
    # pinned E_base (model only): groups above the range saturate (r <= 0 included), below it
    # underflow; mixed with ordinary jobs.
    "pinned": dict(g=8, e=3, nb=8, lat=7, seed=0xACE1, first_job=0, spread=30, tensor_spread=12,
                   jobs=jobs_all_m([2, 4, 5], 4, 16),
                   pinned=[dict(m=m, rounding=r, rows=10, cols=16) for m in (1, 4, 8, 16) for r in ROUNDINGS]),
}


# ---------------------------------------------------------------------------------------------
# Independent model (DESIGN §2.1, §3), unbounded integers.

def lfsr_step(s, mask=0xB400):
    lsb = s & 1
    s >>= 1
    return s ^ mask if lsb else s


def lane_seeds(g, seed, job):
    js = (seed + 0x1F35 * job) & 0xFFFF
    out = []
    for i in range(g):
        s = (js + 0x9E37 * (i + 1)) & 0xFFFF
        out.append(s if s else 1)
    return out


def round_elem(sig, r, mode, noise, n):
    if r <= 0:
        return sig << (-r)
    if mode == "truncate":
        return sig >> r
    if mode == "nearest":
        return (sig + (1 << (r - 1))) >> r
    if mode == "even":
        q = sig >> r
        rem = sig - (q << r)
        half = 1 << (r - 1)
        return q + (1 if rem > half or (rem == half and q & 1) else 0)
    if r >= n:
        return (sig + (noise << (r - n))) >> r
    return (sig + (noise >> (n - r))) >> r


COVER = dict(stoch_on_boundary=0, ties=0, ties_even_down=0, stoch_up_r25_39=0, stoch_up_r32_39=0, stoch_r_lt_n=0, r_ge_40=0, r_le_0=0,
             clamped_groups=0, zero_groups=0, underflow_groups=0, saturated=0)
FLAGS = dict(flushed=0, underflow=0, saturated=0)


def model_group(bits, m, e_bits, e_base, mode, noise, n, count=True):
    """(E_f, magnitudes, signs) of one group of binary32 bit patterns; counts flags and
    coverage when `count`."""
    cv = COVER if count else dict(COVER)
    fl = FLAGS if count else dict(FLAGS)
    fields = [(b >> 23) & 0xFF for b in bits]
    fl["flushed"] += sum(1 for b, f in zip(bits, fields) if f == 0 and b & 0x7FFFFFFF)
    nz = [f for f in fields if f]
    zero = [0] * len(bits)
    if not nz:
        cv["zero_groups"] += 1
        return 0, zero, zero
    e_grp = max(nz) - 127
    if e_grp < e_base:
        cv["underflow_groups"] += 1
        fl["underflow"] += len(nz)
        return 0, zero, zero
    e = min(e_grp, e_base + (1 << e_bits) - 1)
    cv["clamped_groups"] += e != e_grp
    mags, signs = [], []
    for b, f, nz_ in zip(bits, fields, noise):
        if f == 0:
            mags.append(0)
            signs.append(0)
            continue
        sig = 0x800000 | (b & 0x7FFFFF)
        r = 24 - m + (e - (f - 127))
        mag = round_elem(sig, r, mode, nz_, n)
        if r <= 0:
            cv["r_le_0"] += 1
        elif r >= 40:
            cv["r_ge_40"] += 1
        elif sig & ((1 << r) - 1) == 1 << (r - 1) and mode in ("nearest", "even"):
            cv["ties"] += 1
            cv["ties_even_down"] += mode == "even" and (sig >> r) & 1 == 0
        if mode == "stochastic" and 1 <= r <= 39:
            add = nz_ << (r - n) if r >= n else nz_ >> (n - r)
            cv["stoch_on_boundary"] += (sig + add) % (1 << r) in (0, (1 << r) - 1)
        if mode == "stochastic" and 25 <= r <= 39 and mag:
            cv["stoch_up_r25_39"] += 1
            cv["stoch_up_r32_39"] += r >= 32
        if mode == "stochastic" and 0 < r < n:
            cv["stoch_r_lt_n"] += 1
        if mag > (1 << m) - 1:
            mag = (1 << m) - 1
            fl["saturated"] += 1
            cv["saturated"] += 1
        mags.append(mag)
        signs.append(1 if (b >> 31) and mag else 0)
    return e - e_base, mags, signs


def planes_of(mags, signs, m, g):
    """The c chunk planes of a group as one integer (plane j at [3g*j +: 3g])."""
    c = (m + 1) // 2
    pad = 2 * c - m
    word = 0
    for i, (mag, s) in enumerate(zip(mags, signs)):
        mp = mag << pad
        for j in range(c):
            chunk = (mp >> (2 * (c - 1 - j))) & 3
            word |= (chunk | (s << 2)) << (3 * g * j + 3 * i)
    return word


# ---------------------------------------------------------------------------------------------
# Data.

def gen_tensor(rng, rows, cols, g, spread, tensor_spread, m):
    """Binary32 bit patterns, [rows, cols]: zeros, subnormals, ties, all-ones significands,
    elements near and far below their group's maximum, all-zero and all-subnormal groups."""
    out = np.zeros((rows, cols), dtype=np.uint32)
    for r in range(rows):
        for q0 in range(0, cols, g):
            n = min(g, cols - q0)
            kind = rng.random()
            top = int(rng.integers(-126 + spread // 2, 128)) if tensor_spread is None else \
                int(rng.integers(60 - tensor_spread, 61))
            for i in range(n):
                sign = int(rng.integers(0, 2)) << 31
                if kind < 0.04:              # all-zero group (signed zeros)
                    out[r, q0 + i] = sign
                    continue
                if kind < 0.07:              # all-subnormal group
                    out[r, q0 + i] = sign | int(rng.integers(0, 1 << 23))
                    continue
                cls = rng.random()
                d = int(rng.integers(0, 4)) if rng.random() < 0.5 else int(rng.integers(0, spread + 1))
                if rng.random() < 0.03:
                    d = int(rng.integers(100, 254))     # hundreds of binades below
                ex = max(top - d, -126)
                frac = int(rng.integers(0, 1 << 23))
                if cls < 0.08:
                    out[r, q0 + i] = sign
                elif cls < 0.14:
                    out[r, q0 + i] = sign | int(rng.integers(1, 1 << 23))
                elif cls < 0.30:
                    # a tie at this element's distance: discarded bits exactly 100..0
                    rr = 24 - m + (top - ex)
                    if 1 <= rr <= 24:
                        sig = (int(rng.integers(0, 1 << 24)) >> rr << rr) | (1 << (rr - 1)) | 0x800000
                        sig &= ~((1 << (rr - 1)) - 1)
                        frac = sig & 0x7FFFFF
                    out[r, q0 + i] = sign | ((ex + 127) << 23) | frac
                elif cls < 0.36:
                    out[r, q0 + i] = sign | ((ex + 127) << 23) | 0x7FFFFF   # rounds up, saturates
                else:
                    out[r, q0 + i] = sign | ((ex + 127) << 23) | frac
            if kind >= 0.07 and rng.random() < 0.8:
                # pin the group maximum to `top` in one element (unless it was made zero)
                i = int(rng.integers(0, n))
                out[r, q0 + i] = (out[r, q0 + i] & 0x807FFFFF) | ((top + 127) << 23)
    return out


def craft_stochastic(data, g, m, noise, nb, rng):
    """Puts elements exactly on the stochastic carry boundary: for the lane's known noise N
    and a chosen r (1..39, high r preferred), sig = k*2^r - N' (rounds up) or one less
    (does not), N' = N << (r - n) or N >> (n - r). The group maximum is left alone."""
    rows, cols = data.shape
    gpr = -(-cols // g)
    for r_ in range(rows):
        for q in range(gpr):
            k_grp = r_ * gpr + q
            idx = [q * g + i for i in range(g) if q * g + i < cols]
            fields = [(int(data[r_, c]) >> 23) & 0xFF for c in idx]
            if not any(fields):
                continue
            top = max(fields)
            am = fields.index(top)
            for pos, c in enumerate(idx):
                if pos == am:
                    continue
                nz = noise[k_grp][pos]
                cands = []
                for r in range(24 - m, 40):
                    fld = top - (r - (24 - m))
                    if fld < 1:
                        break
                    add = nz << (r - nb) if r >= nb else nz >> (nb - r)
                    for k in range(1, 1 << 24):
                        sig = (k << r) - add
                        if sig >= 1 << 24:
                            break
                        if sig >= 1 << 23:
                            cands.append((r, fld, sig))
                            break
                # always take a rare high r (the noise must be near 2^n for it), else half the time
                if not cands or (cands[-1][0] < 30 and rng.random() < 0.5):
                    continue
                r, fld, sig = cands[-1] if rng.random() < 0.5 or cands[-1][0] >= 30 else \
                    cands[int(rng.integers(0, len(cands)))]
                sig -= int(rng.integers(0, 2))
                if sig < 1 << 23:
                    continue
                data[r_, c] = (int(data[r_, c]) & 0x80000000) | (fld << 23) | (sig & 0x7FFFFF)


# ---------------------------------------------------------------------------------------------

def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"gen.py: {' '.join(cmd)} failed:\n{p.stdout}{p.stderr}")
    return p.stdout


def fastbfp_noise(bin_, g, seed, job, groups, nb):
    out = run([bin_, "lfsr", "-g", str(g), "--job", str(job), "--groups", str(groups),
               "--seed", hex(seed), "--noise-bits", str(nb)])
    rows = [l for l in out.splitlines() if l.startswith("group ")]
    return [[int(v) for v in l.split(":")[1].split()] for l in rows]


def model_noise(g, seed, job, groups, nb):
    st = lane_seeds(g, seed, job)
    res = []
    for _ in range(groups):
        st = [lfsr_step(s) for s in st]
        res.append([s >> (16 - nb) for s in st])
    return res


def hexw(v, bits):
    return format(v, "0%dx" % ((bits + 3) // 4))


def main():
    outdir, name = sys.argv[1], sys.argv[2]
    cfg = CONFIGS[name]
    bin_ = os.environ.get("FASTBFP_BIN", "fastbfp")
    g, e, nb, lat, seed = cfg["g"], cfg["e"], cfg["nb"], cfg["lat"], cfg["seed"]
    rng = np.random.default_rng(sum(map(ord, name)))
    os.makedirs(outdir, exist_ok=True)
    jobs = [dict(j, pinned=False) for j in cfg["jobs"]] + [dict(j, pinned=True) for j in cfg.get("pinned", [])]
    order = rng.permutation(len(jobs))
    jobs = [jobs[k] for k in order]
    cmax = max((j["m"] + 1) // 2 for j in jobs)
    in_lines, out_lines, expected = [], [], []
    q_all = 0
    stats = dict(groups=0, model_checked=0, fastbfp_groups=0, pinned_groups=0)
    with tempfile.TemporaryDirectory() as tmp:
        for idx, jb in enumerate(jobs):
            job = cfg["first_job"] + idx
            m, mode = jb["m"], jb["rounding"]
            rows, cols = jb["rows"], jb["cols"]
            data = gen_tensor(rng, rows, cols, g, cfg["spread"], cfg.get("tensor_spread"), m)
            gpr = -(-cols // g)
            ngroups = rows * gpr
            noise = model_noise(g, seed, job, ngroups, nb)
            if mode == "stochastic":
                craft_stochastic(data, g, m, noise, nb, rng)
            # the model's LFSR against fastbfp's, first groups of every job
            if fastbfp_noise(bin_, g, seed, job, min(ngroups, 8), nb) != noise[:min(ngroups, 8)]:
                sys.exit(f"gen.py: job {job}: model LFSR differs from fastbfp lfsr")
            groups = []   # (bits of g elements)
            for r in range(rows):
                for q in range(gpr):
                    el = [int(data[r, q * g + i]) if q * g + i < cols else 0 for i in range(g)]
                    groups.append(el)
            if jb["pinned"]:
                fields = [(int(b) >> 23) & 0xFF for b in data.flatten() if (int(b) >> 23) & 0xFF]
                emax = (max(fields) - 127) if fields else 0
                # a base a few binades under the tensor maximum: the top groups saturate
                # (some with r <= 0), the lowest underflow
                e_base = emax - int(rng.integers(0, 30))
                model = [model_group(grp, m, e, e_base, mode, noise[k], nb) for k, grp in enumerate(groups)]
                ef_planes = [(ef, planes_of(mg, sg, m, g)) for ef, mg, sg in model]
                stats["pinned_groups"] += ngroups
            else:
                npy = os.path.join(tmp, f"t{idx}.npy")
                np.save(npy, data.view(np.float32))
                pk = os.path.join(tmp, f"pk{idx}")
                qseed = (seed + 0x1F35 * job) & 0xFFFF
                qout = run([bin_, "quantize", npy, "-o", os.path.join(tmp, f"o{idx}.npy"), "-g", str(g),
                     "-m", str(m), "-e", str(e), "--rounding", mode, "--seed", hex(qseed),
                     "--noise-bits", str(nb), "--packed", pk])
                qflags = [l for l in qout.splitlines() if l.strip().startswith("flags")][0].split()
                qflags = dict(flushed=int(qflags[2].rstrip(",")), underflow=int(qflags[4].rstrip(",")),
                              saturated=int(qflags[6]))
                meta = json.load(open(os.path.join(pk, "packed.json")))
                e_base = meta["e_base"]
                exps = [int(l, 16) for l in open(os.path.join(pk, "exponents.hex")).read().split()]
                mant = [int(l, 16) for l in open(os.path.join(pk, "mantissa.hex")).read().split()]
                c = (m + 1) // 2
                assert len(exps) == ngroups and len(mant) == ngroups * c, (len(exps), len(mant))
                ef_planes = []
                for k in range(ngroups):
                    w = 0
                    for j in range(c):
                        w |= mant[k * c + j] << (3 * g * j)
                    ef_planes.append((exps[k], w))
                # the independent model must agree with fastbfp on every group
                before = dict(FLAGS)
                for k, grp in enumerate(groups):
                    ef, mg, sg = model_group(grp, m, e, e_base, mode, noise[k], nb)
                    if (ef, planes_of(mg, sg, m, g)) != ef_planes[k]:
                        sys.exit(f"gen.py: {name} job {job} group {k}: model {ef} {planes_of(mg, sg, m, g):x} "
                                 f"!= fastbfp {ef_planes[k][0]} {ef_planes[k][1]:x} (m {m} {mode}, E_base {e_base})")
                    stats["model_checked"] += 1
                if {k: FLAGS[k] - before[k] for k in FLAGS} != qflags:
                    sys.exit(f"gen.py: {name} job {job}: model flags {FLAGS} - {before} != quantize's {qflags}")
                stats["fastbfp_groups"] += ngroups
            c = (m + 1) // 2
            for k, grp in enumerate(groups):
                line = 0
                for i, b in enumerate(grp):
                    line |= b << (32 * i)
                line |= (1 if k == 0 else 0) << (32 * g)
                line |= (job & 0xFFFF) << (32 * g + 1)
                line |= (e_base & 0xFFFF) << (32 * g + 17)
                line |= m << (32 * g + 33)
                line |= MODE_CODE[mode] << (32 * g + 38)
                in_lines.append(hexw(line, 32 * g + 40))
                ef, planes = ef_planes[k]
                o = planes | (ef << (3 * g * cmax))
                for i, nz in enumerate(noise[k]):
                    o |= nz << (3 * g * cmax + 8 + 16 * i)
                out_lines.append(hexw(o, 16 * g + 8 + 3 * g * cmax))
                expected.append(f"{q_all + lat} {job & 0xFFFF} {k} CV {hexw(planes | (ef << (3 * g * c)), e + 3 * g * c)}")
                q_all += 1
            stats["groups"] += ngroups
    open(os.path.join(outdir, "conv_in.hex"), "w").write("\n".join(in_lines) + "\n")
    open(os.path.join(outdir, "conv_out.hex"), "w").write("\n".join(out_lines) + "\n")
    open(os.path.join(outdir, "expected_flags.txt"), "w").write(
        f"{FLAGS['flushed']} flushed, {FLAGS['underflow']} underflow, {FLAGS['saturated']} saturated\n")
    open(os.path.join(outdir, "expected_cv.txt"), "w").write("\n".join(expected) + "\n")
    vh = {
        "FB_G": g, "FB_E_BITS": e, "FB_LFSR_SEED": "16'h%04x" % seed, "FB_LFSR_MASK": "16'hb400",
        "FB_NOISE_BITS": nb, "FB_CONV_GROUPS": q_all, "FB_CONV_IN_BITS": 32 * g + 40,
        "FB_CONV_OUT_BITS": 16 * g + 8 + 3 * g * cmax, "FB_CONV_CMAX": cmax, "FB_CONV_LATENCY": lat,
    }
    open(os.path.join(outdir, "golden.vh"), "w").write(
        f"// golden.vh -- tests/rtl/unit_conv/gen.py, configuration {name}\n"
        + "".join(f"`define {k} {v}\n" for k, v in vh.items()))
    print(f"{name}: g {g} e {e} noise bits {nb} latency {lat}: {len(jobs)} jobs, {stats['groups']} groups "
          f"({stats['fastbfp_groups']} from fastbfp quantize, all equal to the model; "
          f"{stats['pinned_groups']} pinned-base from the model)\n  covered: "
          + ", ".join(f"{k} {v}" for k, v in COVER.items()))


if __name__ == "__main__":
    main()
