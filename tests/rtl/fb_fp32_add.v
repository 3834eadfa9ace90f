// fb_fp32_add -- IEEE binary32 addition, round to nearest even, subnormals in and out,
// x + (-x) = +0, (-0) + (-0) = -0. The operands are aligned on a 52-bit signed datapath (26
// guard bits and a sticky bit below the smaller operand) and the exact-enough sum is rounded by
// fb_fp32_round.
// Infinities and NaNs follow x86-64 SSE binary32 addition, which is what the simulator's f32
// accumulator does on the host that writes the golden vectors: an infinity plus a finite value
// is that infinity; +inf + -inf is the default NaN QNAN (x86: ffc00000; an aarch64 host would
// give 7fc00000); a NaN operand comes out quieted, a's if both are NaN. A partial sum reaches
// infinity, then NaN, only when group products overflow binary32 (operands near 2^64 and
// above).
module fb_fp32_add #(
    parameter [31:0] QNAN = 32'hFFC0_0000
) (
    input  wire [31:0] a,
    input  wire [31:0] b,
    output wire [31:0] s
);
    localparam W = 52;
    wire        sa = a[31], sb = b[31];
    wire [7:0]  ea = a[30:23], eb = b[30:23];
    // Significands with the hidden bit; a subnormal uses exponent 1 without it.
    wire [23:0] ma = (ea == 0) ? {1'b0, a[22:0]} : {1'b1, a[22:0]};
    wire [23:0] mb = (eb == 0) ? {1'b0, b[22:0]} : {1'b1, b[22:0]};
    wire [8:0]  xa = (ea == 0) ? 9'd1 : {1'b0, ea};
    wire [8:0]  xb = (eb == 0) ? 9'd1 : {1'b0, eb};
    wire        a_big = (xa > xb) || (xa == xb && ma >= mb);
    wire [23:0] m_hi = a_big ? ma : mb;
    wire [23:0] m_lo = a_big ? mb : ma;
    wire        s_hi = a_big ? sa : sb;
    wire        s_lo = a_big ? sb : sa;
    wire [8:0]  x_hi = a_big ? xa : xb;
    wire [8:0]  d = a_big ? (xa - xb) : (xb - xa);

    reg  [W-1:0] hi_al, lo_al, lost;
    reg  signed [W-1:0] sum;
    always @* begin
        hi_al   = {{(W-24){1'b0}}, m_hi} << 26;
        lo_al = {{(W-24){1'b0}}, m_lo} << 26;
        if (d >= W) begin
            lost  = lo_al;
            lo_al = 0;
        end else begin
            lost  = lo_al & ((({{(W-1){1'b0}}, 1'b1}) << d) - 1);
            lo_al = lo_al >> d;
        end
        lo_al[0] = lo_al[0] | (lost != 0);      // sticky
        sum = (s_hi ? -$signed(hi_al) : $signed(hi_al)) + (s_lo ? -$signed(lo_al) : $signed(lo_al));
    end

    // value = sum * 2^(x_hi - 150 - 26)
    wire signed [15:0] x_sum = $signed({7'b0, x_hi}) - 16'sd176;
    wire [31:0] rounded;
    fb_fp32_round #(.PW(W), .XW(16)) round_sum (.p(sum), .x(x_sum), .f(rounded));

    wire a_nan = (ea == 8'hFF) && (a[22:0] != 0), b_nan = (eb == 8'hFF) && (b[22:0] != 0);
    wire a_inf = (ea == 8'hFF), b_inf = (eb == 8'hFF);
    wire both_zero = (a[30:0] == 0) && (b[30:0] == 0);
    assign s = a_nan ? (a | 32'h0040_0000) :
               b_nan ? (b | 32'h0040_0000) :
               (a_inf && b_inf && sa != sb) ? QNAN :
               a_inf ? a : b_inf ? b :
               both_zero ? {sa & sb, 31'b0} : rounded;
endmodule
