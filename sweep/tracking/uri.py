"""Owns how a tracking URI is shown: credentials never reach a message, a param or a tag. Pure."""

from __future__ import annotations

from urllib.parse import urlparse, urlunparse


def redact(uri: str) -> str:
    """http://user:secret@host:5000 → http://***@host:5000: credentials never reach a message."""
    parsed = urlparse(uri)
    if not (parsed.username or parsed.password):
        return uri
    host = parsed.netloc.rsplit("@", 1)[1]
    return urlunparse(parsed._replace(netloc=f"***@{host}"))
