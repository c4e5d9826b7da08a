"""``cryptography`` keys of the firmware's RSA keys, for tests that check
the card's RSA against an independent implementation (no tests of its own)."""
from cryptography.hazmat.primitives.asymmetric import rsa


def private_key(key):
    """The ``cryptography`` private key of an RsaKey (its primes recovered from n, e, d;
    ``cryptography`` checks the CRT values it derives)."""
    p, q = rsa.rsa_recover_prime_factors(key.n, key.e, key.d)
    return rsa.RSAPrivateNumbers(p, q, key.d, rsa.rsa_crt_dmp1(key.d, p), rsa.rsa_crt_dmq1(key.d, q),
                                 rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(key.e, key.n)).private_key()
