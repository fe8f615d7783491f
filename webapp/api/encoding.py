"""Content codings of the sync API: answers in the best the client accepts, bodies in any a
phone can make, expanded under a cap.

zstd before br before gzip: on a first sync's pages zstd (level 9) and br (quality 5) land
within a few percent of each other and 30 % under gzip, zstd in a third of br's time
(BENCHMARKS.md, figure 10). Request
bodies: what `CompressionStream` makes (gzip, deflate), and zstd and br for other clients;
each is expanded in steps, so a small body that would expand past the cap (a zip bomb)
costs no more than the cap before it is refused. A body is taken whole or not at all: gzip's
further members and zstd's further frames are part of it (both formats allow a series), and
anything else after the end, or an end that never comes (a cut body), is refused rather than
dropped in silence.
"""
from __future__ import annotations

import gzip
import io
import zlib

import brotli
import zstandard
from werkzeug.datastructures import Accept

PREFERRED = ("zstd", "br", "gzip")
# Not worth a coding: the headers alone are larger.
SMALLEST = 512
ZSTD_LEVEL, BROTLI_QUALITY = 9, 5
STEP = 256 * 1024


class EncodingRefused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def choose(accepted: Accept) -> str | None:
    """The coding to answer in: of ours, the one the client weighs highest (RFC 9110
    §12.5.3: "gzip;q=1, zstd;q=0.5" asks for gzip), at equal weight the first; none at q=0."""
    best = max(PREFERRED, key=lambda coding: accepted[coding])  # the first of equals
    return best if accepted[best] > 0 else None


def compress(body: bytes, coding: str | None, gzip_level: int = 6) -> tuple[bytes, str | None]:
    if coding is None or len(body) < SMALLEST:
        return body, None
    if coding == "zstd":
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body), coding
    if coding == "br":
        return brotli.compress(body, quality=BROTLI_QUALITY), coding
    return gzip.compress(body, compresslevel=gzip_level, mtime=0), "gzip"


def expand(raw: bytes, coding: str, cap: int) -> bytes:
    """A request body in `coding` expanded, at most `cap` bytes (else 413)."""
    coding = coding.strip().lower()
    if coding in ("", "identity"):
        out = raw
    elif coding in ("gzip", "x-gzip", "deflate"):
        # gzip's header (wbits 31) or zlib's (15): what CompressionStream("gzip" / "deflate") makes.
        out = _inflate(raw, cap, members="gzip" in coding)
    elif coding == "zstd":
        out = _zstd(raw, cap)
    elif coding == "br":
        out = _brotli(raw, cap)
    else:
        raise EncodingRefused(415, "unsupported_encoding",
                              f"Content-Encoding {coding!r} is not accepted (gzip, deflate, zstd, br) / 不支持的压缩格式")
    if len(out) > cap:
        raise _too_large(cap)
    return out


def _too_large(cap: int) -> EncodingRefused:
    return EncodingRefused(413, "body_too_large", f"the body expands to more than {cap // (1024 * 1024)} MB / "
                                                  f"请求体解压后过大")


def _corrupt() -> EncodingRefused:
    return EncodingRefused(400, "invalid_encoding", "the body is not valid in its Content-Encoding / 请求体压缩格式有误")


def _inflate(raw: bytes, cap: int, members: bool) -> bytes:
    """gzip's members one after another (NUL padding between them allowed, as Python's gzip
    module allows it), or one zlib stream; each expanded in steps under what is left of the cap."""
    out = io.BytesIO()
    rest = raw
    while True:
        decoder = zlib.decompressobj(31 if members else 15)
        _stepped(decoder, rest, cap, out)
        if out.tell() > cap:
            return out.getvalue()
        rest = decoder.unused_data.lstrip(b"\0") if members else decoder.unused_data
        if not rest:
            return out.getvalue()
        if not members or not rest.startswith(_GZIP_MAGIC):
            raise _corrupt()  # bytes after the end that are not another member


_GZIP_MAGIC = b"\x1f\x8b"


def _stepped(decoder: zlib._Decompress, raw: bytes, cap: int, out: io.BytesIO) -> None:
    try:
        out.write(decoder.decompress(raw, cap + 1 - out.tell()))
        while decoder.unconsumed_tail and out.tell() <= cap:
            out.write(decoder.decompress(decoder.unconsumed_tail, cap + 1 - out.tell()))
        if out.tell() <= cap:
            out.write(decoder.flush())
    except zlib.error:
        raise _corrupt() from None
    if out.tell() <= cap and not decoder.eof:
        raise _corrupt()


def _zstd(raw: bytes, cap: int) -> bytes:
    """Every frame, read under the cap; then, the output known to fit, each frame checked to
    end (python-zstandard's reader returns a cut frame's part without a word)."""
    try:
        out = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw), read_across_frames=True).read(cap + 1)
        if len(out) > cap:
            return out
        rest = raw
        while rest:
            frame = zstandard.ZstdDecompressor().decompressobj()
            frame.decompress(rest)
            if not frame.eof:
                raise _corrupt()
            rest = frame.unused_data
    except zstandard.ZstdError:
        raise _corrupt() from None
    return out


def _brotli(raw: bytes, cap: int) -> bytes:
    decoder = brotli.Decompressor()
    out = io.BytesIO()
    try:
        out.write(decoder.process(raw, output_buffer_limit=STEP))
        while not decoder.can_accept_more_data() and out.tell() <= cap:
            out.write(decoder.process(b"", output_buffer_limit=STEP))
    except brotli.error:
        raise _corrupt() from None
    if out.tell() <= cap and not decoder.is_finished():
        raise _corrupt()
    return out.getvalue()
