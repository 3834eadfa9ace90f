// tb_converter -- drives fb_bfp_converter with conv_in.hex of a golden directory, one group
// per cycle, and writes a dump line "<cycle> <job> <group> CV <hex>" per output group (hex =
// E_f over the group's chunk planes, DESIGN §4); the LFSR noise is compared with
// conv_out.hex and any difference is printed. Run in the golden directory:
//   iverilog -g2005 -I DIR -o conv.vvp tb_converter.v fb_bfp_converter.v fb_lfsr16.v
//   (cd DIR && vvp -n conv.vvp +dump=dump_conv.txt)
`timescale 1ns / 1ps
`include "golden.vh"
module tb_converter;
    localparam G = `FB_G, EB = `FB_E_BITS, N = `FB_CONV_GROUPS, LAT = `FB_CONV_LATENCY;
    localparam CMAX = `FB_CONV_CMAX, IW = `FB_CONV_IN_BITS, OW = `FB_CONV_OUT_BITS;
    reg [IW-1:0] in_mem  [0:N-1];
    reg [OW-1:0] out_mem [0:N-1];
    reg [15:0]   job_of  [0:N-1];
    reg [4:0]    m_of    [0:N-1];
    integer      grp_of  [0:N-1];

    reg clk = 1'b0, rst = 1'b1;
    reg [IW-1:0] line;
    reg in_valid;
    wire out_valid;
    wire [EB-1:0] out_ef;
    wire [3*G*CMAX-1:0] out_planes;
    wire [16*G-1:0] out_noise;

    fb_bfp_converter #(.G(G), .EB(EB), .NB(`FB_NOISE_BITS), .LAT(LAT), .CMAX(CMAX), .MASK(`FB_LFSR_MASK)) dut (
        .clk(clk), .rst(rst), .in_valid(in_valid), .first(line[32*G]), .seed(`FB_LFSR_SEED),
        .job(line[32*G+1 +: 16]), .e_base(line[32*G+17 +: 16]), .m(line[32*G+33 +: 5]),
        .rounding(line[32*G+38 +: 2]), .x(line[32*G-1:0]),
        .out_valid(out_valid), .out_ef(out_ef), .out_planes(out_planes), .out_noise(out_noise)
    );

    reg [8*512-1:0] path;
    reg [EB+3*G*CMAX-1:0] word;
    integer fd, t, q, g, c, bad_noise;
    initial begin
        $readmemh("conv_in.hex", in_mem);
        $readmemh("conv_out.hex", out_mem);
        g = 0;
        for (q = 0; q < N; q = q + 1) begin
            if (in_mem[q][32*G]) g = 0;
            job_of[q] = in_mem[q][32*G+1 +: 16];
            m_of[q] = in_mem[q][32*G+33 +: 5];
            grp_of[q] = g;
            g = g + 1;
        end
        if (!$value$plusargs("dump=%s", path)) path = "dump_conv.txt";
        fd = $fopen(path, "w");
        if (fd == 0) begin
            $display("tb_converter: cannot open the dump file");
            $finish;
        end
        $fwrite(fd, "# tb_converter: <cycle> <job> <group> CV <hex>\n");
        bad_noise = 0;
        line = 0; in_valid = 0;
        #1 clk = 1'b1; #1 clk = 1'b0; rst = 1'b0;
        for (t = 0; t < N + LAT; t = t + 1) begin
            in_valid = (t < N);
            line = (t < N) ? in_mem[t] : 0;
            #1;
            if (out_valid) begin
                q = t - LAT;
                c = (m_of[q] + 1) / 2;
                word = out_planes & ((({{(EB+3*G*CMAX-1){1'b0}}, 1'b1}) << (3*G*c)) - 1);
                word = word | ({{(3*G*CMAX){1'b0}}, out_ef} << (3*G*c));
                $fwrite(fd, "%0d %0d %0d CV %h\n", t, job_of[q], grp_of[q], word);
                if (out_noise !== out_mem[q][3*G*CMAX+8 +: 16*G]) begin
                    bad_noise = bad_noise + 1;
                    $display("tb_converter: group %0d: noise %h, conv_out.hex has %h", q, out_noise,
                             out_mem[q][3*G*CMAX+8 +: 16*G]);
                end
            end
            #1 clk = 1'b1;
            #1 clk = 1'b0;
        end
        if (bad_noise != 0) $display("tb_converter: %0d groups with different LFSR noise", bad_noise);
        $fclose(fd);
        $finish;
    end
endmodule
