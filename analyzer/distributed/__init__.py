"""Analysis past one process: a capture (or a directory of ring-buffer files) split by
conversation over the workers of a Dask cluster, with the same `summary --json` as one
process on the merged capture.

    partition.py   pass 1, per file: where each packet is and which partition analyses it
    plan.py        the packets in merged order, numbered, and one partition's share
    part.py        pass 2, per partition: an ordinary Engine over its packets in order
    merge.py       the partitions' conversations spliced in order of first packet, renumbered
    run.py         the two passes on a Dask cluster (`--dask ADDRESS` or `local:N`)
"""
