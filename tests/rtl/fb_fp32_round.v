// fb_fp32_round -- a signed integer times a power of two, rounded once to IEEE binary32:
// f = round_nearest_even(p * 2^x), subnormal results kept, +-infinity past the largest
// finite value, +0 for p = 0 (DESIGN §5, the fMAC's product to binary32).
// Combinational; PW (integer width) and XW (exponent width) are parameters.
module fb_fp32_round #(
    parameter PW = 48,
    parameter XW = 16
) (
    input  wire signed [PW-1:0] p,
    input  wire signed [XW-1:0] x,
    output reg         [31:0]   f
);
    reg          neg;
    reg [PW-1:0] mag;
    reg [PW:0]   q;
    reg [PW:0]   rem;
    reg [PW:0]   half;
    integer      pos, i, top, lsb, shift, bits;

    always @* begin
        neg  = p[PW-1];
        mag  = neg ? -p : p;
        pos  = -1;
        q    = 0;
        rem  = 0;
        half = 0;
        top  = 0;
        lsb  = 0;
        shift = 0;
        bits = 0;
        for (i = 0; i < PW; i = i + 1)
            if (mag[i]) pos = i;
        if (pos < 0) begin
            f = 32'h0000_0000;
        end else begin
            top = pos + x;                      // weight of the leading one
            if (top > 127) begin
                f = {neg, 31'h7F80_0000};
            end else begin
                lsb = top - 23;                 // weight of the result's last bit
                if (lsb < -149) lsb = -149;     // subnormal: fixed at 2^-149
                shift = lsb - x;                // bits of mag below that weight
                if (shift <= 0) begin
                    q = {1'b0, mag} << (-shift);
                end else if (shift > PW) begin
                    q = 0;                      // mag < 2^PW <= half an ulp
                end else begin
                    q    = {1'b0, mag} >> shift;
                    rem  = {1'b0, mag} & ((({{PW{1'b0}}, 1'b1}) << shift) - 1);
                    half = ({{PW{1'b0}}, 1'b1}) << (shift - 1);
                    if (rem > half || (rem == half && q[0])) q = q + 1;
                end
                // value = q * 2^lsb; with q in [2^23, 2^24] this is the exponent field
                // (lsb + 150) over the fraction q - 2^23; subnormals have lsb = -149.
                bits = (lsb + 149) * 8388608 + q;
                if (bits >= 32'h7F80_0000) f = {neg, 31'h7F80_0000};
                else f = {neg, bits[30:0]};
            end
        end
    end
endmodule
