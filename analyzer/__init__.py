"""wirelab analyzer: capture sources, decoding, flows, reassembly, analysis, views and the lab.

Imports point one way: analyzer -> dissectors, never the reverse.
"""
__version__ = "0.1.0"
