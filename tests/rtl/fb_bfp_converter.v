// fb_bfp_converter -- binary32 groups to BFP (DESIGN §2.1, §3, §4), one group per cycle:
// exponent comparator tree over the normal elements, per element the shift distance
// r = 24 - m + (E - e_i), rounding (truncate, nearest ties away, even, stochastic with the
// lane's LFSR noise), saturation to 2^m - 1, sign cleared on zero, and the split output: the
// exponent field E_f = E - E_base and the chunk planes (plane j at [3G*j +: 3G], element i at
// [3i +: 3], bit 2 sign, bits 1..0 the chunk; odd m padded with one zero LSB).
// Every lane's LFSR steps once per valid group (reseeded first when `first`), in every mode.
// The datapath is combinational and followed by LAT pipeline registers (the converter's
// latency, ceil(log2 G) + 3 by default in fastbfp), so a group leaves LAT cycles after it
// enters.
module fb_bfp_converter #(
    parameter        G    = 16,
    parameter        EB   = 8,
    parameter        NB   = 8,        // noise bits per element
    parameter        LAT  = 7,        // pipeline latency, cycles (>= 1)
    parameter        CMAX = 8,        // chunk planes the output holds
    parameter [15:0] MASK = 16'hB400
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  in_valid,
    input  wire                  first,      // first group of a conversion job
    input  wire [15:0]           seed,
    input  wire [15:0]           job,
    input  wire signed [15:0]    e_base,
    input  wire [4:0]            m,          // mantissa bits 1..16
    input  wire [1:0]            rounding,   // 0 truncate, 1 nearest, 2 even, 3 stochastic
    input  wire [32*G-1:0]       x,          // element i at [32i +: 32]
    output wire                  out_valid,
    output wire [EB-1:0]         out_ef,
    output wire [3*G*CMAX-1:0]   out_planes,
    output wire [16*G-1:0]       out_noise   // lane i's noise for the group, [16i +: 16]
);
    // LFSR lanes.
    reg  [15:0]     lane_state [0:G-1];
    wire [16*G-1:0] lane_next;
    genvar gi;
    generate
        for (gi = 0; gi < G; gi = gi + 1) begin : lane
            fb_lfsr16 #(.MASK(MASK), .LANE(gi)) lfsr (
                .state(lane_state[gi]), .reseed(first), .seed(seed), .job(job),
                .next(lane_next[16*gi +: 16])
            );
        end
    endgenerate

    // One element's rounding of the 24-bit significand by r bits (1 <= r <= 39).
    function [63:0] round_sig;
        input [23:0] sig;
        input integer r;
        input [1:0] mode;
        input [15:0] noise;
        reg [63:0] s, q, rem, half;
        begin
            s    = {40'b0, sig};
            q    = s >> r;
            rem  = s & ((64'd1 << r) - 1);
            half = 64'd1 << (r - 1);
            case (mode)
                2'd0: round_sig = q;
                2'd1: round_sig = (s + half) >> r;
                2'd2: round_sig = q + ((rem > half || (rem == half && q[0])) ? 64'd1 : 64'd0);
                default: round_sig = (r >= NB) ? ((s + ({48'b0, noise} << (r - NB))) >> r)
                                               : ((s + ({48'b0, noise} >> (NB - r))) >> r);
            endcase
        end
    endfunction

    reg  [EB-1:0]       ef;
    reg  [3*G*CMAX-1:0] planes;
    reg  [16*G-1:0]     noise;
    integer i, jj, field, max_field, e_grp, e_top, r, c, pad;
    reg [63:0] mag;
    reg [23:0] sig;
    reg [16:0] mag_p;
    reg        neg;
    always @* begin
        max_field = 0;
        for (i = 0; i < G; i = i + 1) begin
            field = x[32*i + 23 +: 8];
            if (field > max_field) max_field = field;
            noise[16*i +: 16] = lane_next[16*i +: 16] >> (16 - NB);
        end
        planes = 0;
        ef = 0;
        c = (m + 1) / 2;
        pad = m % 2;
        e_top = e_base + (1 << EB) - 1;
        e_grp = max_field - 127;
        if (max_field != 0 && e_grp >= e_base) begin
            if (e_grp > e_top) e_grp = e_top;   // a pinned base: the group saturates
            ef = e_grp - e_base;
            for (i = 0; i < G; i = i + 1) begin
                field = x[32*i + 23 +: 8];
                sig = {1'b1, x[32*i +: 23]};
                r = 24 - m + (e_grp - (field - 127));
                if (field == 0) mag = 0;
                else if (r <= 0) mag = 64'hFFFF_FFFF;          // saturates below
                else if (r >= 40) mag = 0;
                else mag = round_sig(sig, r, rounding, noise[16*i +: 16]);
                if (mag > (64'd1 << m) - 1) mag = (64'd1 << m) - 1;
                neg = x[32*i + 31] && (mag != 0);
                mag_p = mag[16:0] << pad;
                for (jj = 0; jj < CMAX; jj = jj + 1)
                    if (jj < c)
                        planes[3*G*jj + 3*i +: 3] = {neg, mag_p[2*(c - 1 - jj) +: 2]};
            end
        end
    end

    // LAT pipeline stages; the LFSR state steps when a group enters.
    reg                  p_valid  [0:LAT-1];
    reg [EB-1:0]         p_ef     [0:LAT-1];
    reg [3*G*CMAX-1:0]   p_planes [0:LAT-1];
    reg [16*G-1:0]       p_noise  [0:LAT-1];
    integer n;
    always @(posedge clk) begin
        if (rst) begin
            for (n = 0; n < G; n = n + 1) lane_state[n] <= 16'h0001;
            for (n = 0; n < LAT; n = n + 1) begin
                p_valid[n] <= 1'b0; p_ef[n] <= 0; p_planes[n] <= 0; p_noise[n] <= 0;
            end
        end else begin
            if (in_valid)
                for (n = 0; n < G; n = n + 1) lane_state[n] <= lane_next[16*n +: 16];
            p_valid[0] <= in_valid; p_ef[0] <= ef; p_planes[0] <= planes; p_noise[0] <= noise;
            for (n = 1; n < LAT; n = n + 1) begin
                p_valid[n] <= p_valid[n-1]; p_ef[n] <= p_ef[n-1];
                p_planes[n] <= p_planes[n-1]; p_noise[n] <= p_noise[n-1];
            end
        end
    end
    assign out_valid  = p_valid[LAT-1];
    assign out_ef     = p_ef[LAT-1];
    assign out_planes = p_planes[LAT-1];
    assign out_noise  = p_noise[LAT-1];
endmodule
