// fb_lfsr16 -- the next state of one converter noise lane (DESIGN §3): a 16-bit Galois LFSR,
// right shift, feedback mask MASK (default 0xB400, x^16 + x^14 + x^13 + x^11 + 1), and the
// lane's reseed value for a conversion job: (job_seed + 0x9E37 * (lane + 1)) mod 2^16, 1 if
// that is 0, with job_seed = (seed + 0x1F35 * job) mod 2^16. Combinational; the converter
// holds the state register.
module fb_lfsr16 #(
    parameter [15:0] MASK = 16'hB400,
    parameter        LANE = 0
) (
    input  wire [15:0] state,     // current state
    input  wire        reseed,    // start of a job: step from the job's lane seed instead
    input  wire [15:0] seed,      // run seed
    input  wire [15:0] job,       // conversion job number
    output wire [15:0] next       // state after one step
);
    wire [15:0] job_seed  = seed + 16'h1F35 * job;
    wire [15:0] lane_raw  = job_seed + 16'h9E37 * (LANE + 1);
    wire [15:0] lane_seed = (lane_raw == 16'h0000) ? 16'h0001 : lane_raw;
    wire [15:0] s = reseed ? lane_seed : state;
    assign next = s[0] ? ((s >> 1) ^ MASK) : (s >> 1);
endmodule
