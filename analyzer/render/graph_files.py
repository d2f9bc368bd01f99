"""Graph files (PNG, SVG, PDF) drawn with matplotlib from analyzer.render.graph_data.

    draw_io(series, path, title)        bars of packets and a line of bytes per interval
    draw_seq(series, path, title)       tcptrace style: one segment per packet, retransmissions
                                        in red, the receiver's ack (green) and window (yellow)
    draw_rtt(series, path, title)       RTT (ms) of each acked segment against time
    draw_throughput(series, path, title)

matplotlib is imported on first use, with the Agg backend (no display needed).  Each
function returns the matplotlib Figure it saved (tests read its Line2D data), closed.
"""
from __future__ import annotations

import os

from analyzer.errors import WirelabError

FORMATS = ("png", "svg", "pdf")
COLORS = {"c2s": "#1f77b4", "s2c": "#9467bd", "retrans": "#d62728", "ack": "#2ca02c",
          "window": "#bcbd22"}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def check_format(path: str) -> str:
    """The image format named by the file's extension (WirelabError if none we write)."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise WirelabError(f"cannot tell the image format of {path!r}: name it .png, .svg or .pdf")
    return ext


def _save(fig, path: str) -> None:
    """Write atomically: a failed write leaves no file behind."""
    fmt = check_format(path)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        fig.savefig(tmp, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
        os.replace(tmp, path)
    except OSError as exc:
        raise WirelabError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        _pyplot().close(fig)


def draw_io(series, path: str, title: str):
    check_format(path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = series.interval * 0.9
    ax.bar(series.times, series.packets, width=width, align="edge", color=COLORS["c2s"],
           label="packets", gid="packets")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"packets / {series.interval:g} s")
    ax2 = ax.twinx()
    mids = [t + series.interval / 2 for t in series.times]
    ax2.plot(mids, series.bytes, color=COLORS["retrans"], marker=".", label="bytes", gid="bytes")
    ax2.set_ylabel(f"bytes / {series.interval:g} s")
    ax.set_title(title)
    fig.legend(loc="upper right")
    fig.tight_layout()
    _save(fig, path)
    return fig


def _segments(ax, segs, color, label, gid):
    xs, ys = [], []
    for t, a, b in segs:
        xs += [t, t, None]
        ys += [a, b, None]
    ax.plot(xs, ys, color=color, linewidth=2, marker="_", label=label, gid=gid)


def _steps(ax, points, color, label, gid):
    xs = [t for t, _ in points]
    ys = [v for _, v in points]
    ax.step(xs, ys, where="post", color=color, linewidth=1, label=label, gid=gid)


def draw_seq(series, path: str, title: str):
    """One panel per direction that sent data (tcptrace draws one direction at a time)."""
    check_format(path)
    plt = _pyplot()
    dirs = [d for d in ("c2s", "s2c") if series[d].segments or series[d].retransmissions] or ["c2s"]
    fig, axes = plt.subplots(len(dirs), 1, figsize=(10, 4.5 * len(dirs)), squeeze=False)
    for ax, d in zip(axes[:, 0], dirs):
        s = series[d]
        _segments(ax, s.segments, COLORS[d], "segments", f"{d}-segments")
        if s.retransmissions:
            _segments(ax, s.retransmissions, COLORS["retrans"], "retransmissions",
                      f"{d}-retransmissions")
        if s.acks:
            _steps(ax, s.acks, COLORS["ack"], "ack", f"{d}-ack")
            _steps(ax, s.windows, COLORS["window"], "window (ack + rwnd)", f"{d}-window")
        ax.set_title(f"{title} — {d} data")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("relative sequence number")
        ax.legend(loc="upper left")
    fig.tight_layout()
    _save(fig, path)
    return fig


def draw_rtt(series, path: str, title: str):
    check_format(path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for d, pts in series.items():
        if pts:
            ax.plot([p[0] for p in pts], [p[2] for p in pts], marker="o", linestyle="-",
                    color=COLORS[d], label=f"{d} data", gid=f"{d}-rtt")
    ax.set_title(title)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("RTT (ms)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    _save(fig, path)
    return fig


def draw_throughput(series, path: str, title: str):
    check_format(path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for d, s in series.items():
        if s.times:
            ax.step(s.times, s.bytes, where="post", color=COLORS[d], label=f"{d}", gid=f"{d}-throughput")
    ax.set_title(title)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("payload bits / s")
    ax.legend(loc="upper left")
    fig.tight_layout()
    _save(fig, path)
    return fig
