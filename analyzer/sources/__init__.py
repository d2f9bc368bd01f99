"""Packet sources: capture files (pcap, pcapng) and live capture.

Every source yields `Record`s: raw frame bytes plus where they came from; decoding is later
(analyzer.decode).  Files: `analyzer.sources.open.open_capture(path)` picks
`pcapfile.PcapSource` or `pcapng.PcapngSource` by magic (both `capture.CaptureSource`:
iteration, `.warnings`, `.read_frame`, `.progress`, `.follow()`); `pcapwriter.PcapWriter`
writes pcap incrementally; `linktypes` names the link types wirelab decodes.
"""
