# Ref: docs/rings.md
"""Bus-agnostic checks of the card and its driver.

Each ``check_<name>(bus)`` coroutine takes a fresh :class:`PciBus` (the
behavioural :class:`ModelBus` under asyncio, or the RTL bus under cocotb),
asserts RST#, and checks the card's contract (the register map,
docs/rings.md and the PCI rules) against expectations derived from that
contract, never from either implementation: crypto outputs come from
:mod:`crypto_reference` (``cryptography``, ``hmac``, published vectors).
:data:`CHECKS` lists them all. Data is random from fixed seeds; a job moves
at most 64 KiB and a check runs few jobs, so the RTL runs them in seconds.
Waits are for INTA# or bounded polls, never assumed latencies. No check
needs more than 4 channels open at once. Compressed streams are held
against :func:`pacsim.sim.lzs_model.hardware_compress` (the card's
compressor, bit for bit) and the software reference ``reference/lzs.py``; the
public-key checks use 512- and 768-bit moduli with exponents of at most 160
bits (at most about 81 000 PCI clocks per operation on the RTL), the random
number generator is held against ``reference/drbg.py``.

The checks live by unit, so that runs can be sharded: ``driver_suite_registers``
(PCI configuration and BAR0 registers), ``driver_suite_rings`` (jobs on the
rings, errors, interrupts), ``driver_suite_crypto`` (cipher, MAC, hash,
counters), ``driver_suite_lzs``, ``driver_suite_public_key`` and
``driver_suite_rng``; their helpers are in ``driver_suite_support``.
"""
import driver_suite_registers
import driver_suite_rings
import driver_suite_crypto
import driver_suite_lzs
import driver_suite_public_key
import driver_suite_rng

#: Every check, in the order the runners run them.
CHECKS = [
    driver_suite_rng.check_random_jobs,
    driver_suite_rng.check_rng_fault_injection,
    driver_suite_lzs.check_chained_compression,
    driver_suite_lzs.check_lzs_mutated_streams,
    driver_suite_registers.check_probe_finds_card,
    driver_suite_registers.check_config_header_after_reset,
    driver_suite_registers.check_unimplemented_config_dwords_read_zero,
    driver_suite_registers.check_empty_slots_read_all_ones,
    driver_suite_registers.check_bar0_sizing,
    driver_suite_registers.check_command_bits,
    driver_suite_registers.check_scratch_read_write,
    driver_suite_registers.check_unimplemented_bar0_offsets,
    driver_suite_registers.check_read_only_registers_ignore_writes,
    driver_suite_registers.check_int_status_rw1c,
    driver_suite_registers.check_w1s_fields_read_zero,
    driver_suite_registers.check_control_reset_restores_registers,
    driver_suite_rings.check_reset_with_jobs_in_flight,
    driver_suite_rings.check_copy_random_data,
    driver_suite_rings.check_copy_scatter_gather,
    driver_suite_rings.check_many_jobs_in_flight,
    driver_suite_rings.check_ring_full_refuses_the_whole_batch,
    driver_suite_rings.check_master_abort,
    driver_suite_rings.check_descriptor_bus_error_aborts_rings,
    driver_suite_rings.check_bad_descriptor,
    driver_suite_rings.check_bad_length,
    driver_suite_rings.check_bad_opcode,
    driver_suite_rings.check_channel_statuses,
    driver_suite_rings.check_bad_context,
    driver_suite_rings.check_result_ring_full_and_recovery,
    driver_suite_rings.check_coalescing_by_count,
    driver_suite_rings.check_coalescing_by_timeout,
    driver_suite_rings.check_interrupt_disable,
    driver_suite_rings.check_memory_space_off,
    driver_suite_rings.check_bus_master_off_holds_jobs,
    driver_suite_crypto.check_cipher_known_answers,
    driver_suite_crypto.check_cipher_round_trips,
    driver_suite_crypto.check_mac_known_answers,
    driver_suite_crypto.check_hash_jobs,
    driver_suite_crypto.check_mac_round_trips_and_mismatch,
    driver_suite_crypto.check_channel_exhaustion,
    driver_suite_crypto.check_channel_and_alg_counters,
    driver_suite_lzs.check_lzs_round_trips,
    driver_suite_lzs.check_lzs_hand_written_streams,
    driver_suite_lzs.check_lzs_stream_errors,
    driver_suite_lzs.check_lzs_validation,
    driver_suite_lzs.check_lzs_counters,
    driver_suite_public_key.check_modexp_against_pow,
    driver_suite_public_key.check_modexp_statuses_and_interrupt,
    driver_suite_public_key.check_dh_agrees_with_cryptography,
    driver_suite_rng.check_rng_against_reference,
]
