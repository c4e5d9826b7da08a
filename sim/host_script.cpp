// Ref: sim/host_script.py (the script format); sim/rtl_bus.py (the host-side port protocol)
// Pure C++ Verilator harness of the PCI bench: plays a recorded host script.
//
// Usage: host_script SCRIPT
// Drives the bench's host-side ports (the host bridge's burst buffer and
// hb_* ports, host memory as the bench's own array) with no cocotb: reset,
// then for each step the backdoor stores and a bridge transaction started
// `gap` clocks after the previous one completed. Prints one JSON object:
// {"clocks": PCI clocks from M to E, "wall_s": seconds they took,
//  "checked": host-memory words compared, "mismatches": words that differ}.
// Exit status 1 on a mismatch, a protocol violation or a hung bridge.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "Vtop.h"
#include "Vtop___024root.h"
#include "verilated.h"

static Vtop *top;
static unsigned long long clocks = 0;

// One PCI clock: falling then rising edge (inputs set after the rising edge, as cocotb does).
static void tick() {
    top->clk = 0;
    top->eval();
    top->clk = 1;
    top->eval();
    ++clocks;
}

double vl_time_stamp() { return 0; }

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: host_script SCRIPT\n");
        return 2;
    }
    std::ifstream script(argv[1]);
    if (!script) {
        std::fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    auto context = std::make_unique<VerilatedContext>();
    top = new Vtop(context.get());
    auto &mem = top->rootp->pacsim_tb__DOT__hostmem__DOT__mem;
    auto &buffer = top->rootp->pacsim_tb__DOT__hb_buffer;
    top->mem_seed = 1;            // RtlBus.configure_memory's defaults
    top->mem_perr_enable = 1;
    top->chk_clear = 1;
    tick();
    top->chk_clear = 0;
    top->rst = 1;
    for (int i = 0; i < 16; ++i) tick();
    top->rst = 0;
    tick();

    unsigned long long mark = 0, end = 0;
    auto wall0 = std::chrono::steady_clock::now(), wall1 = wall0;
    unsigned long checked = 0, mismatches = 0;
    std::string line;
    while (std::getline(script, line)) {
        std::istringstream fields(line);
        char kind = 0;
        fields >> kind;
        if (kind == 'W') {
            unsigned long index, value;
            fields >> index >> value;
            mem[index] = value;
        } else if (kind == 'T') {
            unsigned long gap, command, write, address, words, byte_enables, value;
            fields >> gap >> command >> write >> address >> words >> byte_enables;
            for (int i = 0; fields >> value; ++i) buffer[i] = value;
            for (unsigned long i = 0; i < gap; ++i) tick();
            top->hb_command = command;
            top->hb_write = write;
            top->hb_address = address;
            top->hb_words = words;
            top->hb_byte_enables = byte_enables;
            top->hb_start = 1;
            tick();
            top->hb_start = 0;
            unsigned long long limit = clocks + 100000;
            bool busy_seen = top->hb_busy;
            while ((!busy_seen || top->hb_busy) && clocks < limit) {
                tick();
                busy_seen = busy_seen || top->hb_busy;
            }
            if (clocks >= limit) {
                std::fprintf(stderr, "host bridge hung at line: %s\n", line.c_str());
                return 1;
            }
            tick();              // the completion is seen at the next rising edge
        } else if (kind == 'M') {
            mark = clocks;
            wall0 = std::chrono::steady_clock::now();
        } else if (kind == 'E') {
            end = clocks;
            wall1 = std::chrono::steady_clock::now();
        } else if (kind == 'C') {
            unsigned long index, value;
            fields >> index >> value;
            ++checked;
            mismatches += mem[index] != value;
        }
    }
    double wall = std::chrono::duration<double>(wall1 - wall0).count();
    unsigned violations = top->chk_violations;
    std::printf("{\"clocks\": %llu, \"wall_s\": %.6f, \"checked\": %lu, \"mismatches\": %lu, "
                "\"violations\": %u}\n", end - mark, wall, checked, mismatches, violations);
    top->final();
    delete top;
    return mismatches || violations || checked == 0 ? 1 : 0;
}
