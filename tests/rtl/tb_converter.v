// tb_converter -- drives fb_bfp_converter from a golden directory (docs/golden.md, "The
// converter files") and writes the CV dump that `fastbfp golden check` reads.
//
// Run it in the golden directory (the $readmemh paths are relative) with that directory on
// the include path for golden.vh:
//   iverilog -g2005 -I DIR -o conv.vvp tb_converter.v fb_bfp_converter.v fb_lfsr16.v
//   (cd DIR && vvp -n conv.vvp +dump=dump_conv.txt)
//
// Cycle t: line t of conv_in.hex is applied (group q enters in cycle q), the outputs are
// sampled, then the clock edge that ends cycle t. The k-th group leaving the converter is
// group k of conv_in.hex; it becomes the dump line
//   <cycle> <job> <group> CV <hex>
// with the cycle it was observed in (q + FB_CONV_LATENCY for a correct converter), the job
// number of the group, its index within its job (counted from 0 at each `first`), and
// hex = {E_f, planes 0..c-1} as one DESIGN §4 group (bits [3G*c +: E_BITS] = E_f, plane j at
// [3G*j +: 3G], c = ceil(m/2) of the group's job), exactly ceil((E_BITS + 3G*c)/4) digits.
//
// Debugging aids (the pass/fail verdict is `fastbfp golden check` on the CV lines): every
// output group's LFSR noise, E_f and planes are compared with conv_out.hex, and each
// difference is printed (the first 20) and counted in the summary line at the end:
//   tb_converter: N groups in, K out, X noise mismatches, Y E_f/plane mismatches vs conv_out.hex
`timescale 1ns / 1ps
`include "golden.vh"
`ifndef FB_LFSR_MASK
`define FB_LFSR_MASK 16'hB400
`endif
module tb_converter;
    localparam G    = `FB_G;
    localparam EB   = `FB_E_BITS;
    localparam N    = `FB_CONV_GROUPS;
    localparam NM   = (N > 0) ? N : 1;           // memory depth (never an empty range)
    localparam LAT  = `FB_CONV_LATENCY;
    localparam CMAX = `FB_CONV_CMAX;
    localparam IW   = `FB_CONV_IN_BITS;          // 32G + 40
    localparam OW   = `FB_CONV_OUT_BITS;         // 16G + 8 + 3G*CMAX
    localparam PW   = 3 * G * CMAX;              // planes field
    localparam WW   = EB + PW + 3;               // widest dump word, whole hex digits

    reg [IW-1:0] in_mem  [0:NM-1];
    reg [OW-1:0] out_mem [0:NM-1];
    reg [15:0]   job_of  [0:NM-1];
    reg [4:0]    m_of    [0:NM-1];
    integer      grp_of  [0:NM-1];

    reg          clk = 1'b0;
    reg          rst = 1'b1;
    reg [IW-1:0] line = {IW{1'b0}};
    reg          in_valid = 1'b0;

    wire          out_valid;
    wire [EB-1:0] out_ef;
    wire [PW-1:0] out_planes;
    wire [16*G-1:0] out_noise;
    wire [6:0]    out_flushed, out_underflow, out_saturated;

    fb_bfp_converter #(
        .G(G), .E_BITS(EB), .NOISE_BITS(`FB_NOISE_BITS), .LATENCY(LAT), .CMAX(CMAX),
        .MASK(`FB_LFSR_MASK)
    ) dut (
        .clk(clk), .rst(rst), .in_valid(in_valid),
        .first(line[32*G]), .seed(`FB_LFSR_SEED), .job(line[32*G+1 +: 16]),
        .e_base(line[32*G+17 +: 16]), .m(line[32*G+33 +: 5]), .rounding(line[32*G+38 +: 2]),
        .x(line[32*G-1:0]),
        .out_valid(out_valid), .out_ef(out_ef), .out_planes(out_planes), .out_noise(out_noise),
        .out_flushed(out_flushed), .out_underflow(out_underflow), .out_saturated(out_saturated)
    );

    reg [8*1024-1:0] path;
    reg [WW-1:0]     word;
    reg [PW-1:0]     pmask;
    reg [16*G-1:0]   want_noise;
    reg [7:0]        want_ef, got_ef;
    integer fd, t, q, k, g, c, d, digits, bad_noise, bad_data, flushed, underflow, saturated;
    initial begin
        if (N > 0) begin
            $readmemh("conv_in.hex", in_mem);
            $readmemh("conv_out.hex", out_mem);
        end
        g = 0;
        for (q = 0; q < N; q = q + 1) begin
            if (in_mem[q][32*G]) g = 0;
            job_of[q] = in_mem[q][32*G+1 +: 16];
            m_of[q]   = in_mem[q][32*G+33 +: 5];
            grp_of[q] = g;
            g = g + 1;
        end
        if (!$value$plusargs("dump=%s", path)) path = "dump_conv.txt";
        fd = $fopen(path, "w");
        if (fd == 0) begin
            $display("tb_converter: cannot open the dump file %0s", path);
            $finish;
        end
        $fwrite(fd, "# tb_converter: <cycle> <job> <group> CV <hex>, latency %0d\n", LAT);
        bad_noise = 0; bad_data = 0; k = 0;
        flushed = 0; underflow = 0; saturated = 0;

        // One reset cycle (not counted: cycle 0 is the first line of conv_in.hex).
        #1 clk = 1'b1;
        #1 clk = 1'b0;
        rst = 1'b0;
        // Two extra cycles past the last expected output, so a late group shows up (and is
        // reported by the check as unexpected) instead of silently missing.
        for (t = 0; t < N + LAT + 2; t = t + 1) begin
            in_valid = (t < N);
            line     = (t < N) ? in_mem[t] : {IW{1'b0}};
            #1;
            if (out_valid) begin
                if (k >= N) begin
                    $display("tb_converter: cycle %0d: output beyond the %0d groups driven", t, N);
                    $fwrite(fd, "%0d %0d %0d CV ", t, 65535, k);
                    c = 0;
                end else begin
                    c = (m_of[k] + 1) / 2;
                    $fwrite(fd, "%0d %0d %0d CV ", t, job_of[k], grp_of[k]);
                end
                if (c > CMAX) c = CMAX;
                pmask = (c == CMAX) ? {PW{1'b1}} : ~({PW{1'b1}} << (3*G*c));
                word  = {{(EB+3){1'b0}}, out_planes & pmask} | ({{(PW+3){1'b0}}, out_ef} << (3*G*c));
                digits = (EB + 3*G*c + 3) / 4;
                for (d = digits - 1; d >= 0; d = d - 1)
                    $fwrite(fd, "%h", word[4*d +: 4]);
                $fwrite(fd, "\n");
                flushed   = flushed + out_flushed;
                underflow = underflow + out_underflow;
                saturated = saturated + out_saturated;
                if (k < N) begin
                    want_noise = out_mem[k][PW+8 +: 16*G];
                    want_ef    = out_mem[k][PW +: 8];
                    if (out_noise !== want_noise) begin
                        bad_noise = bad_noise + 1;
                        if (bad_noise + bad_data <= 20)
                            $display("tb_converter: group %0d (job %0d, group %0d): LFSR noise %h, conv_out.hex has %h",
                                     k, job_of[k], grp_of[k], out_noise, want_noise);
                    end
                    got_ef     = out_ef;      // zero-extended to conv_out.hex's 8 bits
                    if (got_ef !== want_ef || out_planes !== out_mem[k][0 +: PW]) begin
                        bad_data = bad_data + 1;
                        if (bad_noise + bad_data <= 20)
                            $display("tb_converter: group %0d (job %0d, group %0d): E_f %h planes %h, conv_out.hex has %h %h",
                                     k, job_of[k], grp_of[k], out_ef, out_planes, want_ef, out_mem[k][0 +: PW]);
                    end
                end
                k = k + 1;
            end
            #1 clk = 1'b1;
            #1 clk = 1'b0;
        end
        if (k != N)
            $display("tb_converter: %0d groups driven but %0d came out", N, k);
        $display("tb_converter: %0d groups in, %0d out, %0d noise mismatches, %0d E_f/plane mismatches vs conv_out.hex (flags: %0d flushed, %0d underflow, %0d saturated)",
                 N, k, bad_noise, bad_data, flushed, underflow, saturated);
        $fclose(fd);
        $finish;
    end
endmodule
