"""Package integrity: SHA-256 of the content, Ed25519 signature of that digest.

The provider signs with its private key (kept by the service, `SERVITIZE_FLEET_SIGNING_KEY`);
devices hold only the public key and refuse anything whose hash or signature does not match.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def sha256_hex(content: bytes) -> str:
    """The content address of a package."""
    return hashlib.sha256(content).hexdigest()


def new_key() -> Ed25519PrivateKey:
    """A fresh signing key."""
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> bytes:
    """The signing key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip


def public_pem(key: Ed25519PrivateKey) -> bytes:
    """The public half, which devices hold."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private(path: Path) -> Ed25519PrivateKey:
    """A signing key from a PEM file; ValueError when it is not an Ed25519 key."""
    try:
        return load_private_pem(path.read_bytes())
    except ValueError:
        raise ValueError(f"{path} is not an Ed25519 private key") from None


def load_private_pem(pem: bytes) -> Ed25519PrivateKey:
    """A signing key from PEM bytes; ValueError when it is not an Ed25519 key."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def load_public(pem: bytes) -> Ed25519PublicKey:
    """A public key from PEM; ValueError when it is not Ed25519."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def sign(key: Ed25519PrivateKey, sha256: str) -> str:
    """Base64 Ed25519 signature of a hex SHA-256 digest."""
    return base64.b64encode(key.sign(bytes.fromhex(sha256))).decode()


def verify(public: Ed25519PublicKey, content: bytes, sha256: str, signature: str) -> str | None:
    """None when the content matches its hash and the signature holds; else the reason."""
    if sha256_hex(content) != sha256:
        return "hash mismatch"
    try:
        public.verify(base64.b64decode(signature), bytes.fromhex(sha256))
    except (InvalidSignature, ValueError):
        return "bad signature"
    return None
