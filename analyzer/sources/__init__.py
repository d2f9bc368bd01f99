"""Packet sources: capture files (pcap, pcapng) and live capture.

Every source yields `Record`s: raw frame bytes plus where they came from; decoding is later.
"""
