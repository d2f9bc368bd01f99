"""The lab: reference servers and clients speaking wirelab's protocols (built on dissectors/),
and the scenarios that reproduce TCP/UDP phenomena (analyzer.lab.scenarios).

    from analyzer.lab import start_server, clients
    with start_server("lenmsg") as srv:
        print(clients.lenmsg_client(*srv.address, [b"hello"]))     # [b'HELLO']
"""
from __future__ import annotations

from analyzer.lab import clients  # noqa: F401
from analyzer.lab.servers import PROTOCOLS, ServerHandle, make_server, start_server  # noqa: F401
