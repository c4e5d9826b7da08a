// pacsim_icarus_dump: waveform dump for Icarus runs of the bench (Verilog-2005).
// Elaborated as a second top (-s pacsim_icarus_dump) only when waves are on;
// the file name comes from +dumpfile_path=..., the format from vvp's -fst.
module pacsim_icarus_dump;
    reg [8*1024-1:0] path;
    initial begin
        if ($value$plusargs("dumpfile_path=%s", path))
            $dumpfile(path);
        else
            $dumpfile("pacsim_tb.fst");
        $dumpvars(0, pacsim_tb);
    end
endmodule
