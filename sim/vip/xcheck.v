// Ref: PCI Local Bus Specification 2.3 section 3.2.4 (bus driving: driven signals carry valid levels)
// pacsim_xcheck: sticky X/Z detector for the resolved PCI bus (4-state simulators).
//
// Ports:
//   clk      in  1   PCI clock; bus is checked at every rising edge
//   rst      in  1   RST# asserted (active high, the sync domain's reset): no check
//   clear    in  1   synchronous clear of xz_seen
//   bus      in  W   concatenation of every resolved bus level and driver mask
//                    (undriven signals resolve to constant pull levels, so any
//                    X/Z here comes from a driven value or an X/Z output enable)
//   xz_seen  out 1   sticky: 1 from the edge after a check found an X or Z bit
//
// 2-state simulators (Verilator) turn X/Z into 0/1, so xz_seen can only rise
// on a 4-state simulator such as Icarus.
/* verilator lint_off DECLFILENAME */
module pacsim_xcheck #(parameter W = 1) (
    input  wire         clk,
    input  wire         rst,
    input  wire         clear,
    input  wire [W-1:0] bus,
    output reg          xz_seen
);
    initial xz_seen = 1'b0;
    always @(posedge clk) begin
        if (clear)
            xz_seen <= 1'b0;
        else if (!rst && ((^bus) === 1'bx))
            xz_seen <= 1'b1;
    end
endmodule
