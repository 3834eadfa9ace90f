// fb_bfp_converter -- binary32 groups to block floating point, one group per cycle
// (DESIGN §2.1 conversion, §3 LFSR noise lanes, §4 split output; all normative, bit-exact
// with fastbfp's src/bfp/convert.rs, round.rs, lfsr.rs and packed.rs).
//
// Structure: a combinational datapath followed by a LATENCY-deep register pipeline (no
// retiming: the pipeline only delays the result, so the latency is a free parameter,
// ceil(log2 G) + 3 = 7 cycles for G = 16 in fastbfp's default arch). The datapath is
//   1. per element: field/significand split, "normal" detect (a zero exponent field is zero
//      or subnormal: flushed to zero);
//   2. the exponent comparator tree: G - 1 max-comparators of the 8-bit biased exponents,
//      depth ceil(log2 G) (zero fields never win, so the maximum is over the normal elements);
//   3. the group exponent: E = max - 127, underflow (E < E_base) and, for a pinned base, the
//      clamp to E_base + 2^E_BITS - 1 (groups above the range then saturate);
//   4. per element: the shift-distance subtractor r_i = 24 - m + (E - e_i), a 64-bit barrel
//      shifter of {sig_i, 40'b0} by r_i (1 <= r_i <= 39), whose top 24 bits are the truncated
//      magnitude q and whose low 40 bits are every discarded bit, top-aligned;
//   5. the rounding increment: truncate 0; nearest (ties away) the first discarded bit; even
//      the first discarded bit and (sticky or q's LSB); stochastic the carry out of an
//      NOISE_BITS-bit noise adder, discarded_top_n + N_i (see below);
//   6. saturation to 2^m - 1, sign cleared when M = 0, and the chunk split.
//
// Exactness for every r_i (DESIGN §2.1 asks for the unbounded-integer results):
//   * r_i <= 0 (only with a pinned E_base, when E was clamped): |value| >= 2^23 LSBs, the
//     element saturates (fastbfp's round_mantissa shifts left, then saturates);
//   * r_i >= 40: 0 in every mode (sig < 2^24 <= 2^(r-16) and the noise adds < 2^r - 2^(r-n));
//   * 1 <= r_i <= 39: the barrel shifter keeps every discarded bit, so truncate, nearest and
//     even are exact. Stochastic: M = (sig + (N << (r - n))) >> r for r >= n and
//     (sig + (N >> (n - r))) >> r for r < n are both q + carry(rem_r + N * 2^(r - n)); with the
//     r discarded bits top-aligned in a 40-bit field F, N aligned at F's top n bits gives the
//     same carry in both cases (for r < n the noise bits below F's last discarded bit meet
//     zeros and cannot carry, exactly as the ">> (n - r)" drops them), so the carry is that
//     of the n-bit sum F[39 -: n] + N.
//
// Noise lanes: G instances of fb_lfsr16. Every lane steps once per valid group (in_valid) in
// every rounding mode, reseeded first when `first` is set: job_seed = seed + 16'h1F35 * job
// (mod 2^16) is computed here once, lane i adds 16'h9E37 * (i + 1). N_i = next_state >>
// (16 - NOISE_BITS), the state after this group's step. `first` is ignored without in_valid.
//
// Output (LATENCY cycles after the group entered; LATENCY = 0 gives a combinational path):
//   out_valid, out_ef (E_BITS bits, E - E_base; 0 for a zero or underflowed group),
//   out_planes: CMAX chunk planes, plane j at [3G*j +: 3G] (j = 0 most significant), element
//     i at [3i +: 3], bit 2 the sign, bits 1..0 the chunk; an odd m is padded with one zero
//     LSB; planes j >= c = ceil(m/2) are zero. If m > 2*CMAX only the first CMAX planes are
//     given (the group read back truncated, DESIGN §4).
//   out_noise: lane i's N_i at [16i +: 16], zero-extended;
//   per-group element counts (FLAGS of DESIGN §2.1): out_flushed (subnormal inputs),
//   out_underflow (non-zero elements of a group below E_base), out_saturated (clamped to
//   2^m - 1).
// Inputs out of the contract (m outside 1..16, NaN / infinity, NOISE_BITS outside 1..16)
// give unspecified results; fastbfp never produces them.
module fb_bfp_converter #(
    parameter        G          = 16,       // group size, 1..64
    parameter        E_BITS     = 8,        // shared-exponent field bits, 1..8
    parameter        NOISE_BITS = 8,        // noise bits per element, 1..16
    parameter        LATENCY    = 7,        // pipeline depth in cycles, >= 0
    parameter        CMAX       = 8,        // chunk planes at the output (8 covers m <= 16)
    parameter [15:0] MASK       = 16'hB400  // LFSR feedback mask
) (
    input  wire                  clk,
    input  wire                  rst,        // synchronous, active high
    input  wire                  in_valid,
    input  wire                  first,      // first group of a conversion job: reseed lanes
    input  wire [15:0]           seed,       // run seed
    input  wire [15:0]           job,        // conversion job number (mod 2^16)
    input  wire signed [15:0]    e_base,     // the job's tensor E_base
    input  wire [4:0]            m,          // mantissa magnitude bits, 1..16
    input  wire [1:0]            rounding,   // 0 truncate, 1 nearest (ties away), 2 even, 3 stochastic
    input  wire [32*G-1:0]       x,          // binary32 element i at [32i +: 32]
    output wire                  out_valid,
    output wire [E_BITS-1:0]     out_ef,
    output wire [3*G*CMAX-1:0]   out_planes,
    output wire [16*G-1:0]       out_noise,
    output wire [6:0]            out_flushed,     // counts 0..G (7 bits cover G <= 64)
    output wire [6:0]            out_underflow,
    output wire [6:0]            out_saturated
);
    // ceil(log2(v)) for v >= 1.
    function integer clog2;
        input integer v;
        integer k;
        begin
            clog2 = 0;
            for (k = 1; k < v; k = k * 2) clog2 = clog2 + 1;
        end
    endfunction

    localparam FW = 7;                       // width of a per-group element count
    localparam TD = clog2(G);                // comparator-tree depth
    localparam P  = 1 << TD;                 // leaves of the tree (G padded to a power of 2)
    localparam NB = NOISE_BITS;
    localparam CW = 2 * CMAX;                // magnitude bits the planes hold

    // ---------------------------------------------------------------------------------------
    // Noise lanes.
    wire [15:0]     job_seed = seed + 16'h1F35 * job;
    wire [16*G-1:0] lane_next;
    wire [16*G-1:0] noise;                   // N_i, zero-extended to 16 bits
    genvar gi;
    generate
        for (gi = 0; gi < G; gi = gi + 1) begin : lane
            wire [15:0] st;
            fb_lfsr16 #(.MASK(MASK), .LANE(gi)) lfsr (
                .clk(clk), .rst(rst), .step(in_valid), .reseed(first), .job_seed(job_seed),
                .state(st), .next(lane_next[16*gi +: 16])
            );
            assign noise[16*gi +: 16] = lane_next[16*gi +: 16] >> (16 - NB);
        end
    endgenerate

    // ---------------------------------------------------------------------------------------
    // Exponent comparator tree: level 0 holds the P leaves (biased exponent fields, zero for
    // the padding up to a power of 2), level L the P >> L maxima of pairs of level L - 1.
    generate
        for (gi = 0; gi <= TD; gi = gi + 1) begin : lvl
            wire [8*(P >> gi)-1:0] v;
            genvar li;
            if (gi == 0) begin : leaves
                for (li = 0; li < P; li = li + 1) begin : lf
                    if (li < G) begin : el
                        assign v[8*li +: 8] = x[32*li + 23 +: 8];
                    end else begin : pad
                        assign v[8*li +: 8] = 8'd0;
                    end
                end
            end else begin : cmp
                for (li = 0; li < (P >> gi); li = li + 1) begin : mx
                    wire [7:0] a = lvl[gi-1].v[16*li +: 8];
                    wire [7:0] b = lvl[gi-1].v[16*li + 8 +: 8];
                    assign v[8*li +: 8] = (a >= b) ? a : b;
                end
            end
        end
    endgenerate
    wire [7:0] max_field = lvl[TD].v[7:0];

    // ---------------------------------------------------------------------------------------
    // Group exponent (18-bit signed arithmetic; biased values avoid a subtract of 127).
    wire               any_nz   = (max_field != 8'd0);
    wire signed [17:0] eb_b     = {{2{e_base[15]}}, e_base} + 18'sd127;          // E_base + 127
    wire signed [17:0] top_b    = eb_b + ((18'sd1 <<< E_BITS) - 18'sd1);          // E_top + 127
    wire signed [17:0] grp_b    = {10'd0, max_field};                             // max e_i + 127
    wire               under    = any_nz && (grp_b < eb_b);
    wire               clamp    = (grp_b > top_b);
    wire signed [17:0] e_b      = clamp ? top_b : grp_b;                          // E + 127
    wire               live     = any_nz && !under;
    wire signed [17:0] ef_full  = e_b - eb_b;
    wire [E_BITS-1:0]  ef       = live ? ef_full[E_BITS-1:0] : {E_BITS{1'b0}};
    // 24 - m + E + 127: r_i = rbase - (e_i + 127).
    wire signed [17:0] rbase    = e_b + 18'sd24 - {13'd0, m};
    wire [16:0]        max_mag  = (17'd1 << m) - 17'd1;                           // 2^m - 1
    wire [4:0]         chunks   = (m + 5'd1) >> 1;                                // c

    // ---------------------------------------------------------------------------------------
    // Per element: shift distance, barrel shifter, rounding, saturation, chunk split.
    wire [3*G*CMAX-1:0] planes;
    wire [G-1:0]        fl_flushed, fl_under, fl_sat;
    generate
        for (gi = 0; gi < G; gi = gi + 1) begin : el
            wire [31:0]        xi     = x[32*gi +: 32];
            wire [7:0]         fld    = xi[30:23];
            wire               normal = (fld != 8'd0);
            wire [23:0]        sig    = {1'b1, xi[22:0]};
            wire signed [17:0] r      = rbase - {10'd0, fld};
            wire               r_low  = (r <= 18'sd0);      // saturates (pinned base only)
            wire               r_high = (r >= 18'sd40);     // 0 in every mode
            wire [5:0]         sh     = r[5:0];             // 1..39 when used
            wire [63:0]        w      = {sig, 40'd0} >> sh;
            wire [23:0]        q      = w[63:40];
            wire [39:0]        f      = w[39:0];            // discarded bits, top-aligned
            wire [NB:0]        nsum   = {1'b0, f[39 -: NB]} + {1'b0, noise[16*gi +: NB]};
            reg                inc;
            always @* begin
                case (rounding)
                    2'd0:    inc = 1'b0;
                    2'd1:    inc = f[39];
                    2'd2:    inc = f[39] & ((|f[38:0]) | q[0]);
                    default: inc = nsum[NB];
                endcase
            end
            wire [24:0]        rq     = {1'b0, q} + {24'd0, inc};
            wire               big    = r_low || (!r_high && (rq > {8'd0, max_mag}));
            wire [15:0]        mag    = (!live || !normal || r_high) ? 16'd0
                                      : big ? max_mag[15:0] : rq[15:0];
            wire               neg    = xi[31] && (mag != 16'd0);
            // Top-align the m-bit magnitude in 2*CMAX bits: T = M * 2^(2 CMAX - m). For an
            // odd m this is the padded M' = M << 1 over c planes; planes j >= c see zeros.
            wire [CW+15:0]     t_wide = {mag, {CW{1'b0}}} >> m;
            wire [CW-1:0]      t      = t_wide[CW-1:0];
            genvar pj;
            for (pj = 0; pj < CMAX; pj = pj + 1) begin : pl
                assign planes[3*G*pj + 3*gi +: 3] =
                    {neg && (pj < chunks), t[2*(CMAX-1-pj) +: 2]};
            end
            assign fl_flushed[gi] = !normal && (xi[30:0] != 31'd0);
            assign fl_under[gi]   = under && normal;
            assign fl_sat[gi]     = live && normal && big;
        end
    endgenerate

    // Per-group flag counts.
    reg [FW-1:0] n_flushed, n_under, n_sat;
    integer k;
    always @* begin
        n_flushed = {FW{1'b0}};
        n_under   = {FW{1'b0}};
        n_sat     = {FW{1'b0}};
        for (k = 0; k < G; k = k + 1) begin
            n_flushed = n_flushed + {{(FW-1){1'b0}}, fl_flushed[k]};
            n_under   = n_under   + {{(FW-1){1'b0}}, fl_under[k]};
            n_sat     = n_sat     + {{(FW-1){1'b0}}, fl_sat[k]};
        end
    end

    // ---------------------------------------------------------------------------------------
    // LATENCY-deep output pipeline (valid reset, data registers free-running).
    localparam DW = E_BITS + 3*G*CMAX + 16*G + 3*FW;
    wire [DW-1:0] d_in = {n_sat, n_under, n_flushed, noise, planes, ef};
    wire [DW-1:0] d_out;
    wire          v_out;
    generate
        if (LATENCY == 0) begin : comb
            assign d_out = d_in;
            assign v_out = in_valid;
        end else begin : pipe
            reg [DW-1:0] d_q [0:LATENCY-1];
            reg          v_q [0:LATENCY-1];
            integer s;
            always @(posedge clk) begin
                d_q[0] <= d_in;
                v_q[0] <= rst ? 1'b0 : in_valid;
                for (s = 1; s < LATENCY; s = s + 1) begin
                    d_q[s] <= d_q[s-1];
                    v_q[s] <= rst ? 1'b0 : v_q[s-1];
                end
            end
            assign d_out = d_q[LATENCY-1];
            assign v_out = v_q[LATENCY-1];
        end
    endgenerate

    assign out_valid     = v_out;
    assign out_ef        = d_out[0 +: E_BITS];
    assign out_planes    = d_out[E_BITS +: 3*G*CMAX];
    assign out_noise     = d_out[E_BITS + 3*G*CMAX +: 16*G];
    assign out_flushed   = d_out[E_BITS + 3*G*CMAX + 16*G +: FW];
    assign out_underflow = d_out[E_BITS + 3*G*CMAX + 16*G + FW +: FW];
    assign out_saturated = d_out[E_BITS + 3*G*CMAX + 16*G + 2*FW +: FW];
endmodule
