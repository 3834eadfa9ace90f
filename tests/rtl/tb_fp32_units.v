// tb_fp32_units -- exercises fb_fp32_add and fb_fp32_round on vectors from a file, one per
// line: {a[31:0], b[31:0], p[47:0], x[15:0]} (128 bits); writes one line per vector:
// "<a+b> <round(p * 2^x)>" in hex. tests/rtl_cosim.rs compares them with binary32 addition
// and fastbfp's rounding on random and edge-case operands.
//   iverilog -g2005 -o units.vvp tb_fp32_units.v fb_fp32_add.v fb_fp32_round.v
//   vvp -n units.vvp +in=vectors.hex +n=COUNT +out=results.txt
`timescale 1ns / 1ps
module tb_fp32_units;
    localparam MAX = 1 << 20;
    reg [127:0] mem [0:MAX-1];
    reg [127:0] v;
    wire [31:0] sum, rounded;
    fb_fp32_add add (.a(v[127:96]), .b(v[95:64]), .s(sum));
    fb_fp32_round #(.PW(48), .XW(16)) rnd (.p(v[63:16]), .x(v[15:0]), .f(rounded));
    reg [8*512-1:0] in_path, out_path;
    integer n, i, fd;
    initial begin
        if (!$value$plusargs("in=%s", in_path)) in_path = "vectors.hex";
        if (!$value$plusargs("out=%s", out_path)) out_path = "results.txt";
        if (!$value$plusargs("n=%d", n)) n = 0;
        $readmemh(in_path, mem, 0, n - 1);
        fd = $fopen(out_path, "w");
        for (i = 0; i < n; i = i + 1) begin
            v = mem[i];
            #1 $fwrite(fd, "%h %h\n", sum, rounded);
        end
        $fclose(fd);
        $finish;
    end
endmodule
