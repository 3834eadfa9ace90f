// fb_fmac -- one fMAC cell (DESIGN §5): per cycle one chunk pass of G lanes of signed
// 2-bit x 2-bit products, an adder tree and a shift into the group-product register; at the
// end of a beat the exponent adder, the product rounded once to binary32 and a binary32 add
// into the partial sum (fp32 accumulator). Registers, all updated at the rising edge:
//   st_*   stationary plane slots (weight stationary), a shift chain during load; after the
//          load plane j sits in slot cx-1-j (slot 0 is the bottom one);
//   up_*   vertical stream slots (from the cell below / E0,M0), slot phi latched in cycle phi;
//   rt_*   horizontal stream slots (from the left / E1,M1), same rule;
//   prod   group-product register; y / y_valid partial sum or accumulator; y_fresh is set
//          for the one cycle after a beat wrote y.
// A plane used in the cycle it arrives is taken from the input (bypass), DESIGN §7 / tick.rs.
// Port contract: docs/golden.md.
module fb_fmac #(
    parameter G   = 16,   // group size (lanes)
    parameter EB  = 8,    // exponent field bits
    parameter CM  = 8,    // chunk-plane slots (max planes per operand)
    parameter PW  = 48,   // group-product register bits
    parameter XW  = 16    // exponent adder bits
) (
    input  wire               clk,
    input  wire               rst,
    // sequencer
    input  wire [1:0]         mode,        // 0 idle, 1 load, 2 stream, 3 drain
    input  wire               beat_last,
    input  wire [7:0]         phi,
    input  wire [3:0]         j,           // X plane of this cycle's pass
    input  wire [3:0]         k,           // Y plane of this cycle's pass
    // configuration
    input  wire [1:0]         pass,        // 0 forward, 1 backward-data, 2 backward-weight
    input  wire [3:0]         cx,          // X planes
    input  wire [3:0]         cy,          // Y planes
    input  wire signed [XW-1:0] exp_offset,
    // stationary chain
    input  wire               st_in_valid,
    input  wire [EB-1:0]      st_in_e,
    input  wire [3*G-1:0]     st_in_m,
    output wire               st_out_valid,
    output wire [EB-1:0]      st_out_e,
    output wire [3*G-1:0]     st_out_m,
    // vertical stream
    input  wire               up_in_valid,
    input  wire [EB-1:0]      up_in_e,
    input  wire [3*G-1:0]     up_in_m,
    output wire               up_out_valid,
    output wire [EB-1:0]      up_out_e,
    output wire [3*G-1:0]     up_out_m,
    // horizontal stream
    input  wire               rt_in_valid,
    input  wire [EB-1:0]      rt_in_e,
    input  wire [3*G-1:0]     rt_in_m,
    output wire               rt_out_valid,
    output wire [EB-1:0]      rt_out_e,
    output wire [3*G-1:0]     rt_out_m,
    // partial sum in (weight stationary) or drain in (output stationary)
    input  wire               y_in_valid,
    input  wire [31:0]        y_in,
    output reg                y_valid,
    output reg  [31:0]        y,
    output reg                y_fresh
);
    localparam STREAM = 2'd2, LOAD = 2'd1, DRAIN = 2'd3;

    reg               st_v [0:CM-1];
    reg [EB-1:0]      st_e [0:CM-1];
    reg [3*G-1:0]     st_m [0:CM-1];
    reg               up_v [0:CM-1];
    reg [EB-1:0]      up_e [0:CM-1];
    reg [3*G-1:0]     up_m [0:CM-1];
    reg               rt_v [0:CM-1];
    reg [EB-1:0]      rt_e [0:CM-1];
    reg [3*G-1:0]     rt_m [0:CM-1];
    reg signed [PW-1:0] prod;

    wire os = (pass == 2'd2);
    wire [3:0] phi4 = phi[3:0];

    // Stationary chain: the top slot feeds the cell above.
    assign st_out_valid = st_v[cx - 1];
    assign st_out_e     = st_e[cx - 1];
    assign st_out_m     = st_m[cx - 1];
    // Streams: slot phi goes to the next cell in cycle phi.
    assign up_out_valid = (phi < CM) ? up_v[phi4] : 1'b0;
    assign up_out_e     = (phi < CM) ? up_e[phi4] : {EB{1'b0}};
    assign up_out_m     = (phi < CM) ? up_m[phi4] : {3*G{1'b0}};
    assign rt_out_valid = (phi < CM) ? rt_v[phi4] : 1'b0;
    assign rt_out_e     = (phi < CM) ? rt_e[phi4] : {EB{1'b0}};
    assign rt_out_m     = (phi < CM) ? rt_m[phi4] : {3*G{1'b0}};

    // Operands of this cycle's pass, with the bypass for a plane arriving now.
    // X: stationary (weight stationary) or the horizontal stream (output stationary), plane j.
    // Y: the vertical stream (forward, backward-weight) or the horizontal one (backward-data),
    //    plane k.
    wire [3:0] xs = cx - 4'd1 - j;
    wire [3*G-1:0] x_plane = os ? ((phi == j) ? rt_in_m : rt_m[j]) : st_m[xs];
    wire [EB-1:0]  x_e     = os ? ((phi == 0) ? rt_in_e : rt_e[0]) : st_e[cx - 1];
    wire           x_ok    = os ? ((phi == 0) ? rt_in_valid : rt_v[0]) : 1'b1;
    wire           y_up    = (pass != 2'd1);
    wire [3*G-1:0] y_plane = y_up ? ((phi == k) ? up_in_m : up_m[k]) : ((phi == k) ? rt_in_m : rt_m[k]);
    wire [EB-1:0]  y_e     = y_up ? ((phi == 0) ? up_in_e : up_e[0]) : ((phi == 0) ? rt_in_e : rt_e[0]);
    wire           y_ok    = y_up ? ((phi == 0) ? up_in_valid : up_v[0]) : ((phi == 0) ? rt_in_valid : rt_v[0]);

    // One chunk pass: G signed 2-bit x 2-bit products summed by a balanced adder tree, then
    // shifted by 2 ((cx - 1 - j) + (cy - 1 - k)). Lane i: sign = XOR of the two sign bits,
    // magnitude = chunk x chunk (0..9). The tree is a heap over GP = 2^ceil(log2 G) leaves:
    // node n = node 2n+1 + node 2n+2, leaves GP-1 .. 2GP-2 (lanes past G are 0), node 0 the
    // sum. SW bits hold +-9G for G up to 3640 (fastbfp allows G <= 64).
    localparam SW = 16;
    localparam GP = (G <= 1) ? 1 : (G <= 2) ? 2 : (G <= 4) ? 4 : (G <= 8) ? 8 : (G <= 16) ? 16 :
                    (G <= 32) ? 32 : (G <= 64) ? 64 : (G <= 128) ? 128 : (G <= 256) ? 256 :
                    (G <= 512) ? 512 : (G <= 1024) ? 1024 : (G <= 2048) ? 2048 : 4096;
    wire signed [SW-1:0] node [0:2*GP-2] /* verilator split_var */;
    genvar gi;
    generate
        for (gi = 0; gi < GP; gi = gi + 1) begin : lane
            if (gi < G) begin : used
                wire [3:0] mag = x_plane[3*gi +: 2] * y_plane[3*gi +: 2];
                wire       neg = x_plane[3*gi + 2] ^ y_plane[3*gi + 2];
                assign node[GP - 1 + gi] = neg ? -$signed({{(SW-4){1'b0}}, mag})
                                               : $signed({{(SW-4){1'b0}}, mag});
            end else begin : pad
                assign node[GP - 1 + gi] = {SW{1'b0}};
            end
        end
        for (gi = 0; gi < GP - 1; gi = gi + 1) begin : tree
            assign node[gi] = node[2*gi + 1] + node[2*gi + 2];
        end
    endgenerate
    wire signed [PW-1:0] pass_sum = $signed({{(PW-SW){node[0][SW-1]}}, node[0]})
                                    <<< (2 * ((cx - 1 - j) + (cy - 1 - k)));

    // End of the beat: exponent adder, rounding to binary32, binary32 add.
    wire signed [PW-1:0] p_final = prod + pass_sum;
    wire signed [XW-1:0] p_exp = $signed({{(XW-EB){1'b0}}, x_e}) + $signed({{(XW-EB){1'b0}}, y_e}) + exp_offset;
    // Operand isolation: the rounder and the adder see their operands only in a beat's last
    // cycle (the only cycle their result is used), so they do not toggle in the others.
    wire commit = (mode == STREAM) & beat_last;
    wire signed [PW-1:0] p_iso = commit ? p_final : {PW{1'b0}};
    wire signed [XW-1:0] x_iso = commit ? p_exp : {XW{1'b0}};
    wire [31:0] v;
    fb_fp32_round #(.PW(PW), .XW(XW)) round_product (.p(p_iso), .x(x_iso), .f(v));
    wire [31:0] addend = commit ? (os ? y : y_in) : 32'h0;
    wire [31:0] y_sum;
    fb_fp32_add add_psum (.a(addend), .b(v), .s(y_sum));
    wire active = os ? (x_ok & y_ok) : (y_in_valid & y_ok);

    integer n;
    always @(posedge clk) begin
        if (rst) begin
            for (n = 0; n < CM; n = n + 1) begin
                st_v[n] <= 1'b0; st_e[n] <= 0; st_m[n] <= 0;
                up_v[n] <= 1'b0; up_e[n] <= 0; up_m[n] <= 0;
                rt_v[n] <= 1'b0; rt_e[n] <= 0; rt_m[n] <= 0;
            end
            prod    <= 0;
            y       <= 32'h0;
            y_valid <= 1'b0;
            y_fresh <= 1'b0;
        end else begin
            y_fresh <= 1'b0;
            if (mode == LOAD) begin
                st_v[0] <= st_in_valid; st_e[0] <= st_in_e; st_m[0] <= st_in_m;
                for (n = 1; n < CM; n = n + 1) begin
                    st_v[n] <= st_v[n - 1]; st_e[n] <= st_e[n - 1]; st_m[n] <= st_m[n - 1];
                end
            end
            if (mode == STREAM) begin
                if (phi < CM) begin
                    up_v[phi4] <= up_in_valid; up_e[phi4] <= up_in_e; up_m[phi4] <= up_in_m;
                    rt_v[phi4] <= rt_in_valid; rt_e[phi4] <= rt_in_e; rt_m[phi4] <= rt_in_m;
                end
                if (beat_last) begin
                    prod <= 0;
                    if (os) begin
                        if (active) begin
                            y       <= y_sum;
                            y_valid <= 1'b1;
                        end
                    end else begin
                        y       <= active ? y_sum : y_in;
                        y_valid <= y_in_valid;
                        y_fresh <= 1'b1;
                    end
                end else begin
                    prod <= p_final;
                end
            end else begin
                for (n = 0; n < CM; n = n + 1) begin
                    up_v[n] <= 1'b0;
                    rt_v[n] <= 1'b0;
                end
                prod <= 0;
            end
            if (mode == DRAIN) begin
                y       <= y_in;
                y_valid <= y_in_valid;
            end
        end
    end
endmodule
