# Ref: RFC 2408 sections 3.1, 3.14.1, 3.1 (flags) and appendix A
# Ref: RFC 2407 sections 4.2, 4.4, 4.5, 4.6.1, 4.6.2, 4.6.3
# Ref: RFC 2409 appendix A
# Ref: RFC 3947 sections 3, 4, 5; draft-ietf-ipsec-nat-t-ike-02/03
# Ref: RFC 3706 section 5 (DPD notify types)
# Ref: draft-ietf-ipsec-isakmp-mode-cfg-05, draft-beaulieu-ike-xauth-02
"""Every number of ISAKMP/IKEv1 on the wire, defined once as an ``IntEnum``.

The codec (:mod:`.payloads`, :mod:`.message`), the per-exchange rules
(:mod:`.rules`) and the exchanges import these; nothing else spells a
payload type, attribute type or notify code as a bare integer.
"""

from enum import IntEnum, IntFlag

__all__ = [
    "ISAKMP_VERSION", "HEADER_LENGTH", "GENERIC_HEADER_LENGTH", "ExchangeType", "PayloadType", "HeaderFlag",
    "Doi", "Situation", "ProtocolId", "IsakmpTransformId", "EspTransformId", "AhTransformId",
    "IpcompTransformId", "Phase1Attribute", "EncryptionAlgorithm", "HashAlgorithm", "AuthMethod",
    "GroupDescription", "LifeType", "Phase2Attribute", "EncapsulationMode", "AuthAlgorithm", "IdType",
    "CertEncoding", "NotifyType", "ConfigType", "ConfigAttribute",
]

#: Version octet of every IKEv1 message: major 1 (high nibble), minor 0.
ISAKMP_VERSION = 0x10
#: Fixed ISAKMP header, octets (RFC 2408 section 3.1).
HEADER_LENGTH = 28
#: Generic payload header, octets (RFC 2408 section 3.2).
GENERIC_HEADER_LENGTH = 4


class ExchangeType(IntEnum):
    """RFC 2408 section 3.1 / RFC 2409 appendix A; 6 from mode-cfg."""
    BASE = 1
    IDENTITY_PROTECTION = 2          # main mode
    AUTHENTICATION_ONLY = 3
    AGGRESSIVE = 4
    INFORMATIONAL = 5
    TRANSACTION = 6                  # mode-cfg / XAUTH
    QUICK = 32
    NEW_GROUP = 33

    MAIN = 2


class PayloadType(IntEnum):
    """Next Payload values: RFC 2408 section 3.1, RFC 3947 section 3/4
    (20, 21) and the NAT-T drafts' private numbers (130, 131)."""
    NONE = 0
    SA = 1
    PROPOSAL = 2
    TRANSFORM = 3
    KE = 4
    ID = 5
    CERT = 6
    CR = 7
    HASH = 8
    SIG = 9
    NONCE = 10
    N = 11
    D = 12
    VID = 13
    ATTRIBUTE = 14                   # mode-cfg attribute payload
    NAT_D = 20
    NAT_OA = 21
    NAT_D_DRAFT = 130
    NAT_OA_DRAFT = 131


class HeaderFlag(IntFlag):
    """RFC 2408 section 3.1 flags octet; bits 3..7 must be zero."""
    NONE = 0
    ENCRYPTION = 0x01
    COMMIT = 0x02
    AUTHENTICATION_ONLY = 0x04


class Doi(IntEnum):
    """Domain of Interpretation (RFC 2408 section 3.4, RFC 2407 section 4.2)."""
    ISAKMP = 0
    IPSEC = 1


class Situation(IntFlag):
    """IPsec DOI situation bitmap (RFC 2407 section 4.2)."""
    IDENTITY_ONLY = 0x01
    SECRECY = 0x02
    INTEGRITY = 0x04


class ProtocolId(IntEnum):
    """Protocol-Id of proposals, notifies and deletes (RFC 2407 section 4.4.1)."""
    NONE = 0
    ISAKMP = 1
    IPSEC_AH = 2
    IPSEC_ESP = 3
    IPCOMP = 4


class IsakmpTransformId(IntEnum):
    """RFC 2407 section 4.4.2."""
    KEY_IKE = 1


class EspTransformId(IntEnum):
    """RFC 2407 section 4.4.4 (+ 12 AES from RFC 3602)."""
    ESP_DES_IV64 = 1
    ESP_DES = 2
    ESP_3DES = 3
    ESP_RC5 = 4
    ESP_IDEA = 5
    ESP_CAST = 6
    ESP_BLOWFISH = 7
    ESP_3IDEA = 8
    ESP_DES_IV32 = 9
    ESP_RC4 = 10
    ESP_NULL = 11
    ESP_AES = 12


class AhTransformId(IntEnum):
    """RFC 2407 section 4.4.3."""
    AH_MD5 = 2
    AH_SHA = 3
    AH_DES = 4


class IpcompTransformId(IntEnum):
    """RFC 2407 section 4.4.5."""
    IPCOMP_OUI = 1
    IPCOMP_DEFLATE = 2
    IPCOMP_LZS = 3


class Phase1Attribute(IntEnum):
    """IKE SA attribute classes (RFC 2409 appendix A)."""
    ENCRYPTION_ALGORITHM = 1
    HASH_ALGORITHM = 2
    AUTHENTICATION_METHOD = 3
    GROUP_DESCRIPTION = 4
    GROUP_TYPE = 5
    GROUP_PRIME = 6
    GROUP_GENERATOR_ONE = 7
    GROUP_GENERATOR_TWO = 8
    GROUP_CURVE_A = 9
    GROUP_CURVE_B = 10
    LIFE_TYPE = 11
    LIFE_DURATION = 12
    PRF = 13
    KEY_LENGTH = 14
    FIELD_SIZE = 15
    GROUP_ORDER = 16


class EncryptionAlgorithm(IntEnum):
    """RFC 2409 appendix A (+ 7 AES-CBC from RFC 3602)."""
    DES_CBC = 1
    IDEA_CBC = 2
    BLOWFISH_CBC = 3
    RC5_R16_B64_CBC = 4
    DES3_CBC = 5
    CAST_CBC = 6
    AES_CBC = 7


class HashAlgorithm(IntEnum):
    """RFC 2409 appendix A (+ SHA-2 from RFC 4868's IANA registry)."""
    MD5 = 1
    SHA = 2
    TIGER = 3
    SHA2_256 = 4
    SHA2_384 = 5
    SHA2_512 = 6


class AuthMethod(IntEnum):
    """RFC 2409 appendix A; 65001.. from draft-beaulieu-ike-xauth-02 section 7.2."""
    PRE_SHARED_KEY = 1
    DSS_SIGNATURES = 2
    RSA_SIGNATURES = 3
    RSA_ENCRYPTION = 4
    RSA_REVISED_ENCRYPTION = 5
    HYBRID_INIT_RSA = 64221
    HYBRID_RESP_RSA = 64222
    HYBRID_INIT_DSS = 64223
    HYBRID_RESP_DSS = 64224
    XAUTH_INIT_PRE_SHARED = 65001
    XAUTH_RESP_PRE_SHARED = 65002
    XAUTH_INIT_DSS = 65003
    XAUTH_RESP_DSS = 65004
    XAUTH_INIT_RSA = 65005
    XAUTH_RESP_RSA = 65006
    XAUTH_INIT_RSA_ENCRYPTION = 65007
    XAUTH_RESP_RSA_ENCRYPTION = 65008
    XAUTH_INIT_RSA_REVISED_ENCRYPTION = 65009
    XAUTH_RESP_RSA_REVISED_ENCRYPTION = 65010


class GroupDescription(IntEnum):
    """Oakley groups (RFC 2409 section 6 / appendix A, RFC 3526)."""
    MODP_768 = 1
    MODP_1024 = 2
    EC2N_155 = 3
    EC2N_185 = 4
    MODP_1536 = 5
    MODP_2048 = 14
    MODP_3072 = 15
    MODP_4096 = 16


class LifeType(IntEnum):
    """Phase-1 and phase-2 SA life type (RFC 2409 appendix A, RFC 2407 4.5)."""
    SECONDS = 1
    KILOBYTES = 2


class Phase2Attribute(IntEnum):
    """IPsec SA attribute classes (RFC 2407 section 4.5)."""
    SA_LIFE_TYPE = 1
    SA_LIFE_DURATION = 2
    GROUP_DESCRIPTION = 3
    ENCAPSULATION_MODE = 4
    AUTHENTICATION_ALGORITHM = 5
    KEY_LENGTH = 6
    KEY_ROUNDS = 7
    COMPRESS_DICTIONARY_SIZE = 8
    COMPRESS_PRIVATE_ALGORITHM = 9


class EncapsulationMode(IntEnum):
    """RFC 2407 section 4.5, RFC 3947 section 5.1 (3, 4) and the
    draft-ietf-ipsec-nat-t-ike-0x private values (61443, 61444)."""
    TUNNEL = 1
    TRANSPORT = 2
    UDP_ENCAPSULATED_TUNNEL = 3
    UDP_ENCAPSULATED_TRANSPORT = 4
    UDP_ENCAPSULATED_TUNNEL_DRAFT = 61443
    UDP_ENCAPSULATED_TRANSPORT_DRAFT = 61444


class AuthAlgorithm(IntEnum):
    """IPsec authentication algorithm attribute (RFC 2407 section 4.5)."""
    HMAC_MD5 = 1
    HMAC_SHA = 2
    DES_MAC = 3
    KPDK = 4
    HMAC_SHA2_256 = 5


class IdType(IntEnum):
    """Identification types (RFC 2407 section 4.6.2.1)."""
    ID_IPV4_ADDR = 1
    ID_FQDN = 2
    ID_USER_FQDN = 3
    ID_IPV4_ADDR_SUBNET = 4
    ID_IPV6_ADDR = 5
    ID_IPV6_ADDR_SUBNET = 6
    ID_IPV4_ADDR_RANGE = 7
    ID_IPV6_ADDR_RANGE = 8
    ID_DER_ASN1_DN = 9
    ID_DER_ASN1_GN = 10
    ID_KEY_ID = 11


class CertEncoding(IntEnum):
    """Certificate / certificate-request encodings (RFC 2408 section 3.9)."""
    NONE = 0
    PKCS7 = 1
    PGP = 2
    DNS_SIGNED_KEY = 3
    X509_SIGNATURE = 4
    X509_KEY_EXCHANGE = 5
    KERBEROS_TOKENS = 6
    CRL = 7
    ARL = 8
    SPKI = 9
    X509_ATTRIBUTE = 10


class NotifyType(IntEnum):
    """Notify message types: RFC 2408 section 3.14.1 errors (1..30) and
    status (16384), RFC 2407 section 4.6.3, RFC 3706 section 5."""
    INVALID_PAYLOAD_TYPE = 1
    DOI_NOT_SUPPORTED = 2
    SITUATION_NOT_SUPPORTED = 3
    INVALID_COOKIE = 4
    INVALID_MAJOR_VERSION = 5
    INVALID_MINOR_VERSION = 6
    INVALID_EXCHANGE_TYPE = 7
    INVALID_FLAGS = 8
    INVALID_MESSAGE_ID = 9
    INVALID_PROTOCOL_ID = 10
    INVALID_SPI = 11
    INVALID_TRANSFORM_ID = 12
    ATTRIBUTES_NOT_SUPPORTED = 13
    NO_PROPOSAL_CHOSEN = 14
    BAD_PROPOSAL_SYNTAX = 15
    PAYLOAD_MALFORMED = 16
    INVALID_KEY_INFORMATION = 17
    INVALID_ID_INFORMATION = 18
    INVALID_CERT_ENCODING = 19
    INVALID_CERTIFICATE = 20
    CERT_TYPE_UNSUPPORTED = 21
    INVALID_CERT_AUTHORITY = 22
    INVALID_HASH_INFORMATION = 23
    AUTHENTICATION_FAILED = 24
    INVALID_SIGNATURE = 25
    ADDRESS_NOTIFICATION = 26
    NOTIFY_SA_LIFETIME = 27
    CERTIFICATE_UNAVAILABLE = 28
    UNSUPPORTED_EXCHANGE_TYPE = 29
    UNEQUAL_PAYLOAD_LENGTHS = 30
    CONNECTED = 16384
    RESPONDER_LIFETIME = 24576
    REPLAY_STATUS = 24577
    INITIAL_CONTACT = 24578
    R_U_THERE = 36136
    R_U_THERE_ACK = 36137
    PACSIM_HEARTBEAT = 40500          # private-use status: our heartbeat (firmware/isakmp/heartbeat.py)


class ConfigType(IntEnum):
    """Attribute payload message types (draft-ietf-ipsec-isakmp-mode-cfg-05 section 3.2)."""
    ISAKMP_CFG_REQUEST = 1
    ISAKMP_CFG_REPLY = 2
    ISAKMP_CFG_SET = 3
    ISAKMP_CFG_ACK = 4


class ConfigAttribute(IntEnum):
    """Mode-cfg attributes (mode-cfg-05 section 3.3) and XAUTH attributes
    (draft-beaulieu-ike-xauth-02 section 6)."""
    INTERNAL_IP4_ADDRESS = 1
    INTERNAL_IP4_NETMASK = 2
    INTERNAL_IP4_DNS = 3
    INTERNAL_IP4_NBNS = 4
    INTERNAL_ADDRESS_EXPIRY = 5
    INTERNAL_IP4_DHCP = 6
    APPLICATION_VERSION = 7
    INTERNAL_IP6_ADDRESS = 8
    INTERNAL_IP6_NETMASK = 9
    INTERNAL_IP6_DNS = 10
    INTERNAL_IP6_NBNS = 11
    INTERNAL_IP6_DHCP = 12
    INTERNAL_IP4_SUBNET = 13
    SUPPORTED_ATTRIBUTES = 14
    INTERNAL_IP6_SUBNET = 15
    XAUTH_TYPE = 16520
    XAUTH_USER_NAME = 16521
    XAUTH_USER_PASSWORD = 16522
    XAUTH_PASSCODE = 16523
    XAUTH_MESSAGE = 16524
    XAUTH_CHALLENGE = 16525
    XAUTH_DOMAIN = 16526
    XAUTH_STATUS = 16527
    XAUTH_NEXT_PIN = 16528
    XAUTH_ANSWER = 16529
