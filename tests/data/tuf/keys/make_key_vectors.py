#!/usr/bin/env python3
"""Writes vectors.json: keys as python-tuf writes them in metadata, their key
ids, and signatures made and checked by the reference implementation
(securesystemslib's CryptoSigner / SSlibKey), for agent-core/src/tuf/keys.rs.

    pip install 'securesystemslib[crypto]==1.6.0'
    python3 tests/data/tuf/keys/make_key_vectors.py > tests/data/tuf/keys/vectors.json

Every key and signature is fresh each run (the keys are test keys, nothing
else signs with them). The file holds:
- "keys": name, metadata key object, the key id securesystemslib computes,
  whether agent-core supports the scheme, and the private key (PKCS#8 PEM,
  for the signing round trip);
- "cases": key name, message (hex), signature (hex, as in a metadata
  `signatures` entry), "reference_valid" (securesystemslib's verdict, taken
  live) and "valid" (agent-core's expected verdict). They differ only where
  "deviation" says why.
"""
import json
import sys
import warnings

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner, Signature, SSlibKey
from securesystemslib.signer._utils import compute_default_keyid

warnings.simplefilter("ignore", DeprecationWarning)  # keytype "ecdsa-sha2-nistp256"

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

MESSAGE = encode_canonical(
    {
        "_type": "timestamp",
        "spec_version": "1.0.34",
        "version": 7,
        "expires": "2030-01-01T00:00:00Z",
        "meta": {"snapshot.json": {"version": 7}},
    }
).encode("utf-8")
OTHER_MESSAGE = MESSAGE.replace(b'"version":7}', b'"version":8}')
assert OTHER_MESSAGE != MESSAGE


def flip_bit(sig_hex: str, byte: int) -> str:
    raw = bytearray(bytes.fromhex(sig_hex))
    raw[byte % len(raw)] ^= 0x01
    return raw.hex()


def reference_valid(key: SSlibKey, sig_hex: str, message: bytes) -> bool:
    try:
        key.verify_signature(Signature(key.keyid, sig_hex), message)
        return True
    except Exception:  # UnverifiedSignatureError, VerificationError
        return False


SIGNERS = [
    ("ed25519", CryptoSigner.generate_ed25519(), True),
    ("ecdsa-p256", CryptoSigner.generate_ecdsa(), True),
    ("ecdsa-p384", CryptoSigner.generate_ecdsa(scheme="ecdsa-sha2-nistp384"), True),
    ("rsa-pss-sha256", CryptoSigner.generate_rsa(scheme="rsassa-pss-sha256"), True),
    ("rsa-pss-sha384", CryptoSigner.generate_rsa(scheme="rsassa-pss-sha384", size=2048), True),
    ("rsa-pss-sha512", CryptoSigner.generate_rsa(scheme="rsassa-pss-sha512", size=4096), True),
    ("rsa-pkcs1v15-sha256", CryptoSigner.generate_rsa(scheme="rsa-pkcs1v15-sha256", size=2048), True),
    # Schemes agent-core does not support (ring has no P-521; SHA-224 is
    # not in ring): verify_threshold skips such keys.
    ("ecdsa-p521", CryptoSigner.generate_ecdsa(scheme="ecdsa-sha2-nistp521"), False),
    ("rsa-pss-sha224", CryptoSigner.generate_rsa(scheme="rsassa-pss-sha224", size=2048), False),
]

keys = []
cases = []


def add_case(name, key, message, sig_hex, valid, what, deviation=None):
    ref = reference_valid(key, sig_hex, message)
    if deviation is None:
        assert ref == valid, (name, what, ref, valid)
    case = {
        "key": name,
        "what": what,
        "message_hex": message.hex(),
        "sig": sig_hex,
        "reference_valid": ref,
        "valid": valid,
    }
    if deviation is not None:
        case["deviation"] = deviation
    cases.append(case)


for name, signer, supported in SIGNERS:
    key = signer.public_key
    keys.append(
        {
            "name": name,
            "keyid": key.keyid,
            "key": key.to_dict(),
            "supported": supported,
            "private_pkcs8_pem": signer.private_bytes.decode("ascii"),
        }
    )
    sig = signer.sign(MESSAGE).signature
    ok = supported
    add_case(name, key, MESSAGE, sig, ok, "good signature",
             None if supported else "scheme not supported by agent-core")
    add_case(name, key, MESSAGE, flip_bit(sig, 0), False, "first byte flipped")
    add_case(name, key, MESSAGE, flip_bit(sig, len(sig) // 4), False, "middle byte flipped")
    add_case(name, key, MESSAGE, flip_bit(sig, -1), False, "last byte flipped")
    add_case(name, key, OTHER_MESSAGE, sig, False, "other message")
    add_case(name, key, MESSAGE, sig[:-2], False, "truncated by one byte")
    add_case(name, key, MESSAGE, sig + "00", False, "one byte appended")
    add_case(name, key, MESSAGE, "", False, "empty signature")
    add_case(name, key, MESSAGE, sig[:-1], False, "odd-length hex")
    add_case(name, key, MESSAGE, "zz" + sig[2:], False, "not hex")
    add_case(name, key, b"", signer.sign(b"").signature, ok, "empty message",
             None if supported else "scheme not supported by agent-core")

    if name == "ecdsa-p256":
        # The same key under the deprecated keytype (TUF 1.0.34 §4.2 lists
        # "ecdsa-sha2-nistp256" as a keytype; securesystemslib still accepts it).
        legacy = SSlibKey.from_dict(
            "legacy", {"keytype": "ecdsa-sha2-nistp256", "scheme": "ecdsa-sha2-nistp256",
                       "keyval": {"public": key.keyval["public"]}})
        legacy_id = compute_default_keyid(legacy.keytype, legacy.scheme, legacy.keyval)
        legacy.keyid = legacy_id
        keys.append({"name": "ecdsa-p256-legacy-keytype", "keyid": legacy_id,
                     "key": legacy.to_dict(), "supported": True, "private_pkcs8_pem": None})
        add_case("ecdsa-p256-legacy-keytype", legacy, MESSAGE, sig, True, "good signature")
        # ECDSA malleability: (r, n - s) is also a valid signature; OpenSSL
        # and ring both accept it (TUF counts keys, not signatures, so a second
        # form of one key's signature gains an attacker nothing).
        r, s = decode_dss_signature(bytes.fromhex(sig))
        add_case(name, key, MESSAGE, encode_dss_signature(r, P256_N - s).hex(), True,
                 "high-s twin of the good signature")

    if name == "rsa-pss-sha256":
        # securesystemslib signs with salt length = digest length but
        # verifies with PSS.AUTO (any salt length); ring verifies only a
        # salt as long as the digest.
        other_salt = signer._private_key.sign(
            MESSAGE, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                 salt_length=padding.PSS.MAX_LENGTH), hashes.SHA256())
        add_case(name, key, MESSAGE, other_salt.hex(), False, "salt of maximal length",
                 "ring checks PSS with salt length = digest length only, as securesystemslib signs")

# Keys the reference refuses to use (the wrong key material for the type),
# even with a signature their key material did make.
ed_signer, p256_signer, rsa_signer = SIGNERS[0][1], SIGNERS[1][1], SIGNERS[3][1]
ed, p256, rsa = ed_signer.public_key, p256_signer.public_key, rsa_signer.public_key
bad_keys = [
    (ed_signer, "ed25519 public of 31 bytes", {"keytype": "ed25519", "scheme": "ed25519",
                                     "keyval": {"public": ed.keyval["public"][:-2]}}),
    (ed_signer, "ed25519 public not hex", {"keytype": "ed25519", "scheme": "ed25519",
                                "keyval": {"public": "zz" + ed.keyval["public"][2:]}}),
    (rsa_signer, "rsa PEM under keytype ecdsa", {"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256",
                                     "keyval": {"public": rsa.keyval["public"]}}),
    (p256_signer, "p256 PEM under keytype rsa", {"keytype": "rsa", "scheme": "rsassa-pss-sha256",
                                    "keyval": {"public": p256.keyval["public"]}}),
    (p256_signer, "p256 PEM with scheme nistp384", {"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp384",
                                       "keyval": {"public": p256.keyval["public"]}}),
    (ed_signer, "keytype and scheme disagree", {"keytype": "ed25519", "scheme": "ecdsa-sha2-nistp256",
                                     "keyval": {"public": ed.keyval["public"]}}),
    (p256_signer, "PEM garbage", {"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256",
                     "keyval": {"public": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}}),
]
bad = []
for signer, what, d in bad_keys:
    refused = False
    try:
        k = SSlibKey.from_dict("x", dict(d))
        k.verify_signature(Signature("x", signer.sign(MESSAGE).signature), MESSAGE)
    except Exception:
        refused = True
    assert refused, what
    bad.append({"what": what, "key": d, "message_hex": MESSAGE.hex(),
                "sig": signer.sign(MESSAGE).signature})

json.dump({"keys": keys, "cases": cases, "bad_keys": bad}, sys.stdout, indent=1)
sys.stdout.write("\n")
