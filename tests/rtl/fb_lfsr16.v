// fb_lfsr16 -- one noise lane of the BFP converter (DESIGN §3, normative numerics).
//
// A 16-bit Galois LFSR, right shift, feedback mask MASK (default 16'hB400, the polynomial
// x^16 + x^14 + x^13 + x^11 + 1, period 65535):
//
//     step(s): lsb = s & 1; s >>= 1; if lsb == 1 { s ^= MASK }
//
// Reseeding: at the start of conversion job j the converter computes the job seed once,
// job_seed = (seed + 16'h1F35 * j) mod 2^16, and every lane i (parameter LANE) restarts from
//
//     lane_seed = (job_seed + 16'h9E37 * (LANE + 1)) mod 2^16, or 1 if that is 0.
//
// Timing: when `step` is high the state register takes one step at the clock edge; when
// `reseed` is high too, the step starts from lane_seed instead of the current state (the lane
// is reseeded *before* it steps, as DESIGN §3 asks). `next` is the value the state takes at
// that edge, available combinationally in the same cycle: the converter's noise for the group
// entering in this cycle is the top NOISE_BITS of `next`. `reseed` without `step` does nothing.
// A synchronous reset loads 1 (any non-zero value would do: every job starts with a reseed).
module fb_lfsr16 #(
    parameter [15:0] MASK = 16'hB400,
    parameter        LANE = 0          // lane index i, 0..G-1
) (
    input  wire        clk,
    input  wire        rst,        // synchronous, active high
    input  wire        step,       // a group passes: step once at this edge
    input  wire        reseed,     // first group of a job: reseed before this step
    input  wire [15:0] job_seed,   // (seed + 16'h1F35 * job) mod 2^16, shared by all lanes
    output reg  [15:0] state,      // current state
    output wire [15:0] next        // state after this cycle's step
);
    // 16'h9E37 * (LANE + 1) mod 2^16, a per-lane constant.
    localparam [31:0] LANE_PROD = 32'h9E37 * (LANE + 1);
    localparam [15:0] LANE_OFF  = LANE_PROD[15:0];

    wire [15:0] lane_raw  = job_seed + LANE_OFF;
    wire [15:0] lane_seed = (lane_raw == 16'h0000) ? 16'h0001 : lane_raw;
    wire [15:0] cur       = reseed ? lane_seed : state;

    assign next = cur[0] ? ({1'b0, cur[15:1]} ^ MASK) : {1'b0, cur[15:1]};

    always @(posedge clk) begin
        if (rst)
            state <= 16'h0001;
        else if (step)
            state <= next;
    end
endmodule
