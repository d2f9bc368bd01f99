# pcapfile.py compiled as a twin by setup.py: the record loop (PcapSource._scan) runs once per
# packet of every classic pcap file read; its classes stay Python classes
import cython
