"""Pure protocol codecs (sans-IO). No sockets, threads, textual or scapy imports here.

Use the explicit registry: `from dissectors.registry import REGISTRY, get`.
Importing this package has no side effects.
"""
