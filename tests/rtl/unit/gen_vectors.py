#!/usr/bin/env python3
"""Vectors for tb_fp32_unit.v with numpy as the oracle (independent of fastbfp's Rust code).

  fb_fp32_add   : a + b as numpy float32 addition (IEEE binary32, RNE, subnormals kept); the
                  NaN edge cases (inf - inf, NaN operands) assume an x86-64 host, whose SSE
                  addition gives ffc00000 for inf - inf and returns a NaN operand quieted
  fb_fp32_round : P * 2^X rounded once to binary32: the product is formed exactly in float64
                  (|P| < 2^53, X in [-400, 200] keeps P * 2^X an exact double, no subnormal
                  double, no double overflow) and cast once to float32 (RNE, subnormals,
                  overflow to inf); P = 0 gives +0 whatever X.

Writes vectors.hex (one 128-bit line per vector: {a, b, p[47:0], x[15:0]}) and expected.txt
("<a+b> <round>" per line, 8 hex digits each). Usage: gen_vectors.py [COUNT] [SEED]
"""
import sys
import numpy as np

PW = 48  # fb_fp32_round's P width in the unit bench


def f32_bits(v):
    return int(np.asarray(v, dtype=np.float32).view(np.uint32))


def bits_f32(b):
    return np.array([b], dtype=np.uint32).view(np.float32)[0]


def rand_operand(rng):
    """A finite binary32 from a mix of classes."""
    sign = int(rng.integers(2)) << 31
    cls = int(rng.integers(10))
    frac = int(rng.integers(1 << 23))
    if cls == 0:   # subnormal (or zero)
        return sign | frac
    if cls == 1:   # signed zero
        return sign
    if cls == 2:   # smallest normals
        return sign | (int(rng.integers(1, 4)) << 23) | frac
    if cls == 3:   # near the top of the range
        return sign | (int(rng.integers(250, 255)) << 23) | frac
    if cls == 4:   # short significands (exact sums, ties)
        return sign | (int(rng.integers(100, 155)) << 23) | (frac & 0x7F0000)
    if cls == 5:   # largest finite / one ulp below
        return sign | (0x7F7FFFFF - int(rng.integers(3)))
    if cls in (6, 7):
        return sign | (int(rng.integers(110, 145)) << 23) | frac
    return sign | (int(rng.integers(1, 255)) << 23) | frac


def partner(rng, a):
    """b chosen to stress a + b: cancellation, near-cancellation, ties, alignment gaps."""
    m = int(rng.integers(9))
    if m == 0:
        return a ^ 0x80000000                                  # exact cancellation
    if m == 1:
        return (a ^ 0x80000000) ^ int(rng.integers(1, 16))     # near-cancellation
    if m == 2:                                                 # exponent distance d
        ea = (a >> 23) & 0xFF
        d = int(rng.integers(0, 30))
        eb = max(ea - d, 0)
        return (int(rng.integers(2)) << 31) | (eb << 23) | int(rng.integers(1 << 23))
    if m == 3:                                                 # tie: half an ulp of a
        ea = (a >> 23) & 0xFF
        if ea > 24:
            return (a & 0x80000000) | ((ea - 24) << 23) | (int(rng.integers(2)) * 0)
        return rand_operand(rng)
    return rand_operand(rng)


def round_oracle(p, x):
    if p == 0:
        return 0
    with np.errstate(over="ignore", under="ignore"):
        v = np.float64(p) * np.float64(2.0) ** np.float64(x)   # exact
        return f32_bits(np.float32(v))


def rand_product(rng):
    cls = int(rng.integers(8))
    if cls == 0:
        p = 0
    elif cls == 1:
        p = int(rng.integers(-(1 << 47), 1 << 47))
    elif cls == 2:
        p = int(rng.integers(-1000, 1000))
    elif cls == 3:   # exactly representable with ties below the 24th bit
        top = int(rng.integers(24, 46))
        p = ((1 << top) | (1 << (top - 24))) * (1 if rng.integers(2) else -1)
        p += int(rng.integers(-1, 2)) << max(top - 30, 0)
    elif cls == 4:   # all ones: rounds up into the next binade
        p = ((1 << int(rng.integers(24, 47))) - 1) * (1 if rng.integers(2) else -1)
    else:
        bits = int(rng.integers(1, 47))
        p = int(rng.integers(-(1 << bits), 1 << bits))
    xcls = int(rng.integers(6))
    nb = max(abs(p).bit_length(), 1)
    if xcls == 0:    # subnormal results
        x = int(rng.integers(-175, -125)) - nb
    elif xcls == 1:  # overflow boundary
        x = int(rng.integers(125, 131)) - nb
    elif xcls == 2:  # far below: rounds to (signed) zero
        x = int(rng.integers(-400, -200))
    else:
        x = int(rng.integers(-300, 129)) - nb
    x = max(min(x, 200), -400)
    return p, x


def edge_products():
    out = []
    for p in (1, -1, 2, 3, -3, 5, 7, (1 << 24) - 1, (1 << 25) - 1, (1 << 47) - 1, -(1 << 47)):
        for x in (-152, -151, -150, -149, -148, -127, -126, -125, -24, 0, 100, 103, 104, 127, 128):
            out.append((p, x))
    return out


def edge_sums():
    vals = [0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x00800000,
            0x80800000, 0x3F800000, 0xBF800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x33800000, 0x34000000,
            0x3F800001, 0x4B800000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001,
            0xFFA00000, 0x7FC12345]
    nan = lambda v: (v & 0x7F800000) == 0x7F800000 and (v & 0x7FFFFF) != 0
    # Two NaN operands: which one x86 returns depends on the operand order the compiler picked
    # (numpy's and rustc's differ); the array never adds two NaNs (the rounded product is never
    # NaN), so those pairs are left out.
    return [(a, b) for a in vals for b in vals if not (nan(a) and nan(b))]


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = np.random.default_rng(seed)
    sums = edge_sums()
    prods = edge_products()
    while len(sums) < count:
        a = rand_operand(rng)
        sums.append((a, partner(rng, a)))
    while len(prods) < count:
        prods.append(rand_product(rng))
    n = min(len(sums), len(prods))
    with open("vectors.hex", "w") as fv, open("expected.txt", "w") as fe:
        for (a, b), (p, x) in zip(sums[:n], prods[:n]):
            with np.errstate(over="ignore", invalid="ignore"):
                s = f32_bits(bits_f32(a) + bits_f32(b))
            fv.write("%08x%08x%012x%04x\n" % (a, b, p & ((1 << PW) - 1), x & 0xFFFF))
            fe.write("%08x %08x\n" % (s, round_oracle(p, x)))
    print(n)


if __name__ == "__main__":
    main()
