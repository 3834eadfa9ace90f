// fb_array -- ROWS x COLS fMAC cells (fb_fmac) with FAST's edge ports and the three
// dataflows of DESIGN §6, selected by `pass`:
//   0 forward (weight stationary): W loaded up the columns through E0/M0, A streamed up the
//     columns through E0/M0, partial sums rightwards along the rows (Y1 in left, out right);
//   1 backward-data (weight stationary): W loaded as in forward, dO streamed rightwards along
//     the rows through E1/M1, partial sums down the columns (Y0 in at the top, out at the bottom);
//   2 backward-weight (output stationary): A up the columns (E0/M0), dO along the rows (E1/M1),
//     accumulation in the cells, then a drain rightwards along the rows to Y1.
// Every edge port is a bus of lanes, lane l = {valid, payload} at [l*W +: W], exactly the
// lines of the golden vectors (docs/golden.md). Row 0 is the top row, column 0 the left one.
module fb_array #(
    parameter ROWS = 4,
    parameter COLS = 4,
    parameter G    = 16,
    parameter EB   = 8,
    parameter CM   = 8,
    parameter PW   = 48,
    parameter XW   = 16
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire [19:0]              ctl,        // sequencer word: mode, beat_last, phi, j, k
    input  wire [1:0]               pass,
    input  wire [3:0]               cx,
    input  wire [3:0]               cy,
    input  wire signed [XW-1:0]     exp_offset,
    input  wire [COLS*(EB+1)-1:0]   e0_in,      // bottom edge, per column
    input  wire [COLS*(3*G+1)-1:0]  m0_in,
    input  wire [ROWS*(EB+1)-1:0]   e1_in,      // left edge, per row
    input  wire [ROWS*(3*G+1)-1:0]  m1_in,
    input  wire [COLS*33-1:0]       y0_in,      // top edge, per column (backward-data)
    input  wire [ROWS*33-1:0]       y1_in,      // left edge, per row (forward)
    output wire [COLS*33-1:0]       y0_out,     // bottom edge, per column
    output wire [ROWS*33-1:0]       y1_out      // right edge, per row
);
    localparam EW = EB + 1, MW = 3 * G + 1;
    wire [1:0] mode      = ctl[1:0];
    wire       beat_last = ctl[2];
    wire [7:0] phi       = ctl[11:4];
    wire [3:0] j         = ctl[15:12];
    wire [3:0] k         = ctl[19:16];

    // Cell outputs, one net per cell (index r * COLS + c): net arrays rather than flattened
    // buses, so a simulator wakes only the neighbours of a cell whose output changed.
    wire               st_v [0:ROWS*COLS-1];
    wire               up_v [0:ROWS*COLS-1];
    wire               rt_v [0:ROWS*COLS-1];
    wire               y_v  [0:ROWS*COLS-1];
    wire               y_f  [0:ROWS*COLS-1];
    wire [EB-1:0]      st_e [0:ROWS*COLS-1];
    wire [EB-1:0]      up_e [0:ROWS*COLS-1];
    wire [EB-1:0]      rt_e [0:ROWS*COLS-1];
    wire [3*G-1:0]     st_m [0:ROWS*COLS-1];
    wire [3*G-1:0]     up_m [0:ROWS*COLS-1];
    wire [3*G-1:0]     rt_m [0:ROWS*COLS-1];
    wire [31:0]        y    [0:ROWS*COLS-1];

    genvar r, c;
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : row
            for (c = 0; c < COLS; c = c + 1) begin : col
                localparam I = r * COLS + c;
                // From below: the cell underneath, or the E0/M0 port for the bottom row.
                wire           b_v = (r == ROWS - 1) ? m0_in[c*MW + 3*G] : st_v[I + COLS];
                wire [EB-1:0]  b_se = (r == ROWS - 1) ? e0_in[c*EW +: EB] : st_e[I + COLS];
                wire [3*G-1:0] b_sm = (r == ROWS - 1) ? m0_in[c*MW +: 3*G] : st_m[I + COLS];
                wire           u_v = (r == ROWS - 1) ? m0_in[c*MW + 3*G] : up_v[I + COLS];
                wire [EB-1:0]  u_e = (r == ROWS - 1) ? e0_in[c*EW +: EB] : up_e[I + COLS];
                wire [3*G-1:0] u_m = (r == ROWS - 1) ? m0_in[c*MW +: 3*G] : up_m[I + COLS];
                // From the left: the cell beside, or the E1/M1 port for the left column.
                wire           l_v = (c == 0) ? m1_in[r*MW + 3*G] : rt_v[I - 1];
                wire [EB-1:0]  l_e = (c == 0) ? e1_in[r*EW +: EB] : rt_e[I - 1];
                wire [3*G-1:0] l_m = (c == 0) ? m1_in[r*MW +: 3*G] : rt_m[I - 1];
                // Partial sum in: from the left (forward, drain), from above (backward-data).
                wire           yl_v = (c == 0) ? ((pass == 2'd0) ? y1_in[r*33 + 32] : 1'b0) : y_v[I - 1];
                wire [31:0]    yl   = (c == 0) ? ((pass == 2'd0) ? y1_in[r*33 +: 32] : 32'h0) : y[I - 1];
                wire           ya_v = (r == 0) ? y0_in[c*33 + 32] : y_v[I - COLS];
                wire [31:0]    ya   = (r == 0) ? y0_in[c*33 +: 32] : y[I - COLS];
                fb_fmac #(.G(G), .EB(EB), .CM(CM), .PW(PW), .XW(XW)) pe (
                    .clk(clk), .rst(rst),
                    .mode(mode), .beat_last(beat_last), .phi(phi), .j(j), .k(k),
                    .pass(pass), .cx(cx), .cy(cy), .exp_offset(exp_offset),
                    .st_in_valid(b_v), .st_in_e(b_se), .st_in_m(b_sm),
                    .st_out_valid(st_v[I]), .st_out_e(st_e[I]), .st_out_m(st_m[I]),
                    .up_in_valid(u_v), .up_in_e(u_e), .up_in_m(u_m),
                    .up_out_valid(up_v[I]), .up_out_e(up_e[I]), .up_out_m(up_m[I]),
                    .rt_in_valid(l_v), .rt_in_e(l_e), .rt_in_m(l_m),
                    .rt_out_valid(rt_v[I]), .rt_out_e(rt_e[I]), .rt_out_m(rt_m[I]),
                    .y_in_valid((pass == 2'd1) ? ya_v : yl_v), .y_in((pass == 2'd1) ? ya : yl),
                    .y_valid(y_v[I]), .y(y[I]), .y_fresh(y_f[I])
                );
            end
        end
        // Right edge: forward results after each beat, backward-weight results while draining.
        for (r = 0; r < ROWS; r = r + 1) begin : right_edge
            localparam I = r * COLS + COLS - 1;
            wire shown = (pass == 2'd0) ? y_f[I] : (pass == 2'd2) ? (mode == 2'd3) : 1'b0;
            assign y1_out[r*33 +: 33] = {y_v[I] & shown, y[I]};
        end
        // Bottom edge: backward-data partial sums after each beat.
        for (c = 0; c < COLS; c = c + 1) begin : bottom_edge
            localparam I = (ROWS - 1) * COLS + c;
            assign y0_out[c*33 +: 33] = {y_v[I] & y_f[I] & (pass == 2'd1), y[I]};
        end
    endgenerate
endmodule
