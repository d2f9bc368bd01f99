"""Packet sources: capture files (pcap, pcapng) and live capture.

Every source yields `Record`s: raw frame bytes plus where they came from; decoding is later
(analyzer.decode).  Files: `analyzer.sources.open.open_capture(path)` picks
`pcapfile.PcapSource` or `pcapng.PcapngSource` by magic (both `capture.CaptureSource`:
iteration, `.batches(n)` (records for bulk feeding: lists, or `record.RecordColumns` from
the pcap reader), `.warnings`, `.read_frame`,
`.progress`, `.follow()`, `.scan_headers()` and `.record(header)` for a quick pass); `pcapwriter.PcapWriter` is the one pcap writer (live
capture, the lab, tests); `live` is live capture; `linktypes` names the link types wirelab
decodes.  Nothing outside this package parses capture records.
"""
