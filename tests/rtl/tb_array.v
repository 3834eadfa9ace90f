// tb_array -- drives fb_array from a golden directory and writes the dump that
// `fastbfp golden check` reads. Run it in the golden directory (the $readmemh paths are
// relative) with that directory on the include path for golden.vh:
//   iverilog -g2005 -I DIR -o array.vvp tb_array.v fb_array.v fb_fmac.v fb_fp32_round.v fb_fp32_add.v
//   (cd DIR && vvp -n array.vvp +dump=dump_array.txt)
// Cycle t: line t of every per-cycle file is applied, the outputs are sampled, then the clock
// edge that ends cycle t. Every valid Y0/Y1 output lane becomes a line
// "<cycle> <row> <col> <port> <hex>".
`timescale 1ns / 1ps
`include "golden.vh"
module tb_array;
    localparam R = `FB_ROWS, C = `FB_COLS, G = `FB_G, EB = `FB_E_BITS, L = `FB_LINES;
    reg [`FB_E0_BITS-1:0] e0_mem [0:L-1];
    reg [`FB_M0_BITS-1:0] m0_mem [0:L-1];
    reg [`FB_E1_BITS-1:0] e1_mem [0:L-1];
    reg [`FB_M1_BITS-1:0] m1_mem [0:L-1];
    reg [`FB_Y0_BITS-1:0] y0_mem [0:L-1];
    reg [`FB_Y1_BITS-1:0] y1_mem [0:L-1];
    reg [19:0]            ctl_mem [0:L-1];

    reg clk = 1'b0, rst = 1'b1;
    reg [`FB_E0_BITS-1:0] e0;
    reg [`FB_M0_BITS-1:0] m0;
    reg [`FB_E1_BITS-1:0] e1;
    reg [`FB_M1_BITS-1:0] m1;
    reg [`FB_Y0_BITS-1:0] y0;
    reg [`FB_Y1_BITS-1:0] y1;
    reg [19:0]            ctl;
    wire [1:0]            pass = `FB_PASS;
    wire [3:0]            cx = `FB_CX, cy = `FB_CY;
    wire signed [15:0]    exp_offset = `FB_EXP_OFFSET;
    wire [C*33-1:0]       y0_out;
    wire [R*33-1:0]       y1_out;

    fb_array #(.ROWS(R), .COLS(C), .G(G), .EB(EB)) dut (
        .clk(clk), .rst(rst), .ctl(ctl), .pass(pass), .cx(cx), .cy(cy), .exp_offset(exp_offset),
        .e0_in(e0), .m0_in(m0), .e1_in(e1), .m1_in(m1), .y0_in(y0), .y1_in(y1),
        .y0_out(y0_out), .y1_out(y1_out)
    );

    reg [8*512-1:0] path;
    integer fd, t, l;
    initial begin
        $readmemh("E0.hex", e0_mem);
        $readmemh("M0.hex", m0_mem);
        $readmemh("E1.hex", e1_mem);
        $readmemh("M1.hex", m1_mem);
        $readmemh("Y0_in.hex", y0_mem);
        $readmemh("Y1_in.hex", y1_mem);
        $readmemh("ctl.hex", ctl_mem);
        if (!$value$plusargs("dump=%s", path)) path = "dump_array.txt";
        fd = $fopen(path, "w");
        if (fd == 0) begin
            $display("tb_array: cannot open the dump file");
            $finish;
        end
        $fwrite(fd, "# tb_array: <cycle> <row> <col> <port> <hex>\n");
        ctl = 0; e0 = 0; m0 = 0; e1 = 0; m1 = 0; y0 = 0; y1 = 0;
        #1 clk = 1'b1; #1 clk = 1'b0; rst = 1'b0;
        for (t = 0; t < L; t = t + 1) begin
            e0 = e0_mem[t]; m0 = m0_mem[t]; e1 = e1_mem[t]; m1 = m1_mem[t];
            y0 = y0_mem[t]; y1 = y1_mem[t]; ctl = ctl_mem[t];
            #1;
            for (l = 0; l < R; l = l + 1)
                if (y1_out[l*33 + 32]) $fwrite(fd, "%0d %0d %0d Y1 %h\n", t, l, C - 1, y1_out[l*33 +: 32]);
            for (l = 0; l < C; l = l + 1)
                if (y0_out[l*33 + 32]) $fwrite(fd, "%0d %0d %0d Y0 %h\n", t, R - 1, l, y0_out[l*33 +: 32]);
            #1 clk = 1'b1;
            #1 clk = 1'b0;
        end
        $fclose(fd);
        $finish;
    end
endmodule
