import subprocess
import sys


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "analyzer", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for cmd in ("summary", "packets", "serve", "client", "lab", "demo", "open"):
        assert cmd in out.stdout
