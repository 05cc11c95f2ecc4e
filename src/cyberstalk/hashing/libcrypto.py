"""Ed25519 by OpenSSL's libcrypto, the library Python's own ``hashlib`` is built on,
called through ctypes (seven EVP functions, and three for its error queue; OpenSSL
1.1.1 or later).

The manifest is signed on every ingest, whose start-up is a target: the cryptography
package was the largest import on a one-file ingest's path (about 15 ms of the 106 ms
that ``-X importtime`` counts), and the key thread could not hide it, since an import
holds the GIL. ctypes is loaded anyway, for libmagic. Ed25519 signatures are
deterministic (RFC 8032): a key and a message have one signature, whatever computes it,
so the tests hold these functions to cryptography's results, and stock OpenSSL
(``openssl pkeyutl -verify``) checks what they sign. Verifying stays with cryptography
(:func:`cyberstalk.hashing.signing.check_signature`): the check is made by other code
than the one that signed.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

from cyberstalk.native import load_library

NID_ED25519 = 1087
"""OpenSSL's number for Ed25519 keys (``EVP_PKEY_ED25519``, obj_mac.h)."""
SEED_BYTES = 32
PUBLIC_BYTES = 32
SIGNATURE_BYTES = 64
LIBRARY_NAMES = ("libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.3.dylib", "libcrypto.dylib")
MISSING = "OpenSSL's libcrypto (1.1.1 or later) is not installed (Debian: apt install openssl)"


class LibcryptoError(Exception):
    """libcrypto is missing or too old, or refused a call (not an OSError: no file is
    involved)."""


_lock = threading.Lock()
_lib: Any = None


def _library() -> Any:
    """libcrypto with the functions used here declared (loaded once)."""
    global _lib
    with _lock:
        if _lib is None:
            try:
                lib: Any = load_library(LIBRARY_NAMES, "crypto", MISSING)
            except OSError as exc:
                raise LibcryptoError(str(exc)) from None
            p, size, size_p = ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)
            try:
                declare: tuple[tuple[str, Any, list[Any]], ...] = (
                    ("EVP_PKEY_new_raw_private_key", p, [ctypes.c_int, p, ctypes.c_char_p, size]),
                    ("EVP_PKEY_get_raw_public_key", ctypes.c_int, [p, ctypes.c_char_p, size_p]),
                    ("EVP_PKEY_free", None, [p]),
                    ("EVP_MD_CTX_new", p, []),
                    ("EVP_MD_CTX_free", None, [p]),
                    ("EVP_DigestSignInit", ctypes.c_int, [p, p, p, p, p]),
                    (
                        "EVP_DigestSign",
                        ctypes.c_int,
                        [p, ctypes.c_char_p, size_p, ctypes.c_char_p, size],
                    ),
                    ("ERR_get_error", ctypes.c_ulong, []),
                    ("ERR_error_string_n", None, [ctypes.c_ulong, ctypes.c_char_p, size]),
                    ("ERR_clear_error", None, []),
                )
                for name, restype, argtypes in declare:
                    function = getattr(lib, name)
                    function.restype = restype
                    function.argtypes = argtypes
            except AttributeError as exc:  # OpenSSL before 1.1.1: no raw Ed25519 keys
                raise LibcryptoError(f"{MISSING}: {exc}") from None
            _lib = lib
        return _lib


def _failed(lib: Any, what: str) -> LibcryptoError:
    """The error of a call that returned failure, with OpenSSL's first reason; the
    thread's OpenSSL error queue is emptied (hashlib and ssl read the same queue)."""
    code = lib.ERR_get_error()
    reason = ""
    if code:
        buf = ctypes.create_string_buffer(256)
        lib.ERR_error_string_n(code, buf, len(buf))
        reason = f": {buf.value.decode('ascii', 'replace')}"
    lib.ERR_clear_error()
    return LibcryptoError(f"OpenSSL could not {what}{reason}")


def _key(lib: Any, seed: bytes) -> int:
    if len(seed) != SEED_BYTES:
        raise ValueError(f"an Ed25519 private key is {SEED_BYTES} bytes, not {len(seed)}")
    pkey: int | None = lib.EVP_PKEY_new_raw_private_key(NID_ED25519, None, seed, SEED_BYTES)
    if not pkey:
        raise _failed(lib, "make an Ed25519 key")
    return pkey


def public_key(seed: bytes) -> bytes:
    """The 32-byte public key of the 32-byte private key ``seed`` (RFC 8032 5.1.5)."""
    lib = _library()
    pkey = _key(lib, seed)
    try:
        out = ctypes.create_string_buffer(PUBLIC_BYTES)
        length = ctypes.c_size_t(PUBLIC_BYTES)
        if lib.EVP_PKEY_get_raw_public_key(pkey, out, ctypes.byref(length)) != 1:
            raise _failed(lib, "give the public key")
        return out.raw[: length.value]
    finally:
        lib.EVP_PKEY_free(pkey)


def sign(seed: bytes, data: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``data`` by the private key ``seed``."""
    lib = _library()
    pkey = _key(lib, seed)
    try:
        ctx = lib.EVP_MD_CTX_new()
        if not ctx:
            raise _failed(lib, "make a signing context")
        try:
            # Ed25519 signs the message itself in one call: no digest, no update
            if lib.EVP_DigestSignInit(ctx, None, None, None, pkey) != 1:
                raise _failed(lib, "start signing")
            out = ctypes.create_string_buffer(SIGNATURE_BYTES)
            length = ctypes.c_size_t(SIGNATURE_BYTES)
            if lib.EVP_DigestSign(ctx, out, ctypes.byref(length), data, len(data)) != 1:
                raise _failed(lib, "sign")
            return out.raw[: length.value]
        finally:
            lib.EVP_MD_CTX_free(ctx)
    finally:
        lib.EVP_PKEY_free(pkey)
