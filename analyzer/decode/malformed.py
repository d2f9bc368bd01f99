"""The one wording for a header that ends before the frame does (Decoded.malformed)."""
from __future__ import annotations

from analyzer.decode.decoded import Decoded


def header_cut(d: Decoded, what: str, limited: bool) -> None:
    """Mark d: `what` header incomplete; `limited` = the capture's snaplen cut the frame."""
    d.malformed = (f"packet size limited during capture ({what} header cut)" if limited
                   else f"truncated {what} header")
