"""Wireshark interop: the Lua plugin export, `verify` against tshark, pyshark packet detail."""
