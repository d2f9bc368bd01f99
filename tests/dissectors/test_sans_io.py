"""dissectors/ stays sans-IO: importing every codec pulls in no socket, thread, UI or Scapy
module, and nothing from analyzer/ (imports point one way)."""
from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("socket", "threading", "selectors", "asyncio", "subprocess", "textual", "scapy", "analyzer")

CODE = f"""
import sys
before = set(sys.modules)
import dissectors.registry, dissectors.chat, dissectors.lenmsg, dissectors.filexfer
import dissectors.auth, dissectors.bigreply, dissectors.udpecho
new = set(sys.modules) - before
print(sorted(m for m in new if m.split('.')[0] in {FORBIDDEN!r}))
"""


def test_importing_the_codecs_imports_no_io():
    out = subprocess.run([sys.executable, "-S", "-c", CODE], capture_output=True, text=True,
                         cwd=__file__.rsplit("/tests/", 1)[0])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
