# Ref: NIST SP 800-90A Rev. 1; ANSI X3.241-1994; RFC 2104, 1321, 2409, 3526; FIPS 180-4
"""Software reference algorithms the card is held against and the host computes with.

- :mod:`.drbg`: CTR_DRBG (AES-256, no derivation function) and the card's self-test answers;
- :mod:`.lzs`: LZS compression and decompression;
- :mod:`.digests`: SHA-1 and MD5 constants and compression functions, HMAC pad states;
- :mod:`.modp`: the Diffie-Hellman MODP groups.

No Amaranth: the driver, the behavioural model and the gateware's constants
all import it. It imports nothing of pacsim but :mod:`pacsim.contract`.
"""
