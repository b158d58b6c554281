"""The curve side of eHealth's blinded pseudonymisation (pseudonymisation aveugle, deliberation 26/060 §8): a
person's SSIN as a point P of P-521, blinded by the client (r·P), raised to the domain's secret key by eHealth
(k·r·P), unblinded by the client (k·P = the pseudonym in that domain). Pure functions, no I/O; the point
arithmetic is pycryptodome's (``Crypto.PublicKey.ECC.EccPoint``: validated construction, addition, constant-time
scalar multiplication), never our own.

What we found (eHealth's published helper libraries for its pseudonymisation service — Smals' Java helper and
INAMI/RIZIV's .NET and TypeScript ports — and their tests and cookbook examples):

- a domain names its curve (``crv``) and a ``bufferSize``; the cookbook's examples and the helpers' tests use
  P-521 and a buffer of 8 bytes;
- a value becomes a point by eHealth's own try-and-increment: the x coordinate is the big-endian number
  ``value ‖ len(value) ‖ bufferSize zero bytes``, incremented until x³ − 3x + b is a square modulo p, and y is the
  square root ``(x³ − 3x + b)^((p+1)/4) mod p`` (p ≡ 3 mod 4) — :func:`value_point` reproduces the helpers' test
  vectors (``tests/unit/test_pseudonymisation.py``);
- the client sends the blinded point as ``x`` and ``y``, each the base64 (RFC 4648 §4, not base64url) of the
  big-endian coordinate, to ``POST /pseudo/v1/domains/{domain}/pseudonymize``; the service answers ``domain``,
  ``x`` and ``y`` of k·r·P (and a ``transitInfo``, see below); the client multiplies by r⁻¹ mod n;
- a pseudonym's text form is the base64url, without padding, of its SEC 1 encoding — compressed
  (``asShortString``, what :func:`pseudonym_text` gives) or not (``asString``).

What we assumed (to be confirmed against eHealth's cookbook and TRIO's domain definition):

- TRIO's domain is on P-521 with a buffer of 8 bytes, and the value pseudonymised is the SSIN's 11 ASCII digits
  (the helpers' ``ValueFactory.from(String)``, UTF-8);
- the pseudonym TRIO is asked about is the one "at rest" (k·P, compressed SEC 1). The real service answers a
  pseudonym *in transit*, further encrypted for the domain's members (``transitInfo``, a JWE), which a member of
  TRIO's domain turns back into the pseudonym at rest; this platform does not hold the domain's keys, and the
  simulator answers k·r·P directly.

Why eHealth's mapping and not an RFC 9380 hash-to-curve or a SHA-512 try-and-increment: the pseudonym must equal
the one TRIO already holds for the person in its domain, which eHealth's helpers computed from this very encoding;
any other map gives other points, so other pseudonyms. It is safe enough here because (1) nobody knows the discrete
logarithm of P (its x is fixed by the value, no scalar is chosen), so k·P reveals nothing of k, and the service
learns nothing from r·P (a uniformly random point of the group, whatever the SSIN); (2) P-521's cofactor is 1:
every point on the curve is in the group of prime order n, so no small-subgroup point can be slipped in either way.
The one caveat is that the map is reversible: whoever holds P itself reads the SSIN in its x coordinate. P never
leaves this process, and an answer that unblinds to ±P (a service that applied no key) is refused
(:func:`unblind`).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Final

from Crypto.Math.Numbers import Integer
from Crypto.PublicKey.ECC import EccPoint  # type: ignore[attr-defined]  # documented there, re-exported implicitly

CURVE: Final = "P-521"
"""The curve's name as eHealth's domains give it (``crv``)."""
_LIBRARY_CURVE = "p521"
FIELD_PRIME = 2**521 - 1
"""p of P-521 (FIPS 186-4 D.1.2.5)."""
_FIELD_PRIME = Integer(FIELD_PRIME)
CURVE_B = int(
    "0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df88"
    "3d2c34f1ef451fd46b503f00",
    16,
)
"""b of P-521 (y² = x³ − 3x + b); checked against the library's generator in the tests."""
ORDER = int(
    "01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b889"
    "9c47aebb6fb71e91386409",
    16,
)
"""n, the prime order of P-521's group (cofactor 1); checked against the library in the tests."""
COORDINATE_BYTES = 66
"""A coordinate's length, big-endian (⌈521/8⌉)."""
BUFFER_SIZE = 8
"""The bytes left for the try-and-increment counter (eHealth's ``bufferSize``)."""
MAX_VALUE_BYTES = 521 // 8 - BUFFER_SIZE - 1
"""The longest value that fits (eHealth's ``getMaxValueSize``: field size in whole bytes − buffer − length byte)."""


def value_point(value: bytes) -> EccPoint:
    """eHealth's map from a value (at most :data:`MAX_VALUE_BYTES`) to a point of P-521 (see the module's text)."""
    if len(value) > MAX_VALUE_BYTES:
        raise ValueError(f"a value has at most {MAX_VALUE_BYTES} bytes")
    x = int.from_bytes(value + bytes([len(value)]) + bytes(BUFFER_SIZE), "big")
    while True:
        rhs = (pow(x, 3, FIELD_PRIME) - 3 * x + CURVE_B) % FIELD_PRIME
        try:  # the library's root for p ≡ 3 mod 4 is rhs^((p+1)/4) mod p: the one eHealth's helpers take
            y = int(Integer(rhs).sqrt(_FIELD_PRIME))
        except ValueError:  # x³ − 3x + b is no square (about one x in two): the next x
            x += 1
            continue
        return EccPoint(x, y, curve=_LIBRARY_CURVE)


def ssin_point(ssin: str) -> EccPoint:
    """The person's point P: their SSIN's 11 ASCII digits through :func:`value_point`. Never sent anywhere."""
    return value_point(ssin.encode("ascii"))


def random_scalar() -> int:
    """A blinding factor r, uniform in [1, n − 1] (the operating system's CSPRNG)."""
    return 1 + secrets.randbelow(ORDER - 1)


def blind(point: EccPoint) -> tuple[int, EccPoint]:
    """(r, r·P) for a fresh r: r·P is a uniformly random point of the group, whatever P."""
    factor = random_scalar()
    return factor, point * factor


def unblind(answer: EccPoint, factor: int, point: EccPoint) -> EccPoint:
    """k·P from the service's k·r·P and the r it was blinded with. Raises ValueError when the result is P or −P
    (the service applied no key, or the key ±1): sent as a pseudonym, it would carry the SSIN in its x."""
    unblinded = answer * pow(factor, -1, ORDER)
    if unblinded == point or unblinded == -point:
        raise ValueError("the service applied no key")
    return unblinded


def encode_coordinate(value: int) -> str:
    """A coordinate on the wire: base64 (RFC 4648 §4) of its 66 big-endian bytes."""
    return base64.b64encode(value.to_bytes(COORDINATE_BYTES, "big")).decode("ascii")


def encode_point(point: EccPoint) -> tuple[str, str]:
    """A point's ``x`` and ``y`` on the wire (:func:`encode_coordinate`)."""
    x, y = point.xy
    return encode_coordinate(x), encode_coordinate(y)


def decode_point(x: str, y: str) -> EccPoint:
    """A point from the wire's ``x`` and ``y``. Raises ValueError unless both are valid base64 of a number below p
    and (x, y) is a finite point of P-521 (the library checks the curve equation; infinity is refused here)."""
    coordinates = []
    for text in (x, y):
        try:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise ValueError("a coordinate is not base64") from None
        value = int.from_bytes(raw, "big")
        if not raw or len(raw) > COORDINATE_BYTES + 1 or value >= FIELD_PRIME:
            raise ValueError("a coordinate is out of the field")
        coordinates.append(value)
    point = EccPoint(coordinates[0], coordinates[1], curve=_LIBRARY_CURVE)  # ValueError when off the curve
    if point.is_point_at_infinity():
        raise ValueError("the point at infinity")
    return point


def pseudonym_text(point: EccPoint) -> str:
    """A pseudonym's text form: base64url, unpadded, of the compressed SEC 1 encoding (eHealth's
    ``asShortString``): 0x02 or 0x03 (y even or odd), then x in 66 bytes; 90 characters."""
    x, y = point.xy
    encoded = bytes([2 + (y & 1)]) + x.to_bytes(COORDINATE_BYTES, "big")
    return base64.urlsafe_b64encode(encoded).rstrip(b"=").decode("ascii")
