"""The distributed summary on a Dask cluster: pass 1 per file, the plan here, pass 2 per
partition, the merge here.  Only positions, plans and each partition's conversation lines
cross the network (no engine state).  A worker that dies is retried by Dask."""
from __future__ import annotations

import logging
import sys
from contextlib import contextmanager

from analyzer.distributed.merge import merged_engine_warnings, write_merged_summary
from analyzer.distributed.part import analyze_partition
from analyzer.distributed.partition import file_pass
from analyzer.distributed.plan import plan
from analyzer.errors import WirelabError
from analyzer.sources.open import open_capture

RETRIES = 2


@contextmanager
def dask_client(address: str):
    """A distributed.Client for "local:N" (a LocalCluster of N single-threaded worker
    processes started here) or a scheduler address ("tcp://host:8786")."""
    from distributed import Client, LocalCluster
    cluster = None
    if address.startswith("local:"):
        try:
            n = int(address[6:])
        except ValueError:
            raise WirelabError(f"--dask {address}: expected local:N with N a number") from None
        if n < 1:
            raise WirelabError(f"--dask {address}: N must be at least 1")
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise WirelabError(f"--dask {address}: cannot reach the scheduler ({exc})") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _stderr_progress(futures) -> None:
    """Dask's text progress bar, drawn on stderr (stdout carries the JSON)."""
    from distributed.diagnostics.progressbar import TextProgressBar

    class StderrBar(TextProgressBar):
        def _draw_bar(self, remaining, all, **kwargs):
            frac = (1 - remaining / all) if all else 1.0
            sys.stderr.write(f"\r[{'#' * int(self.width * frac):<{self.width}}] | "
                             f"{int(100 * frac)}% Completed")
            sys.stderr.flush()

        def _draw_stop(self, **kwargs):
            sys.stderr.write("\33[2K\r")
            sys.stderr.flush()

    StderrBar(futures)


def _gather(client, futures, what) -> list:
    results = []
    for fut, name in zip(futures, what):
        try:
            results.append(fut.result())
        except WirelabError as exc:
            raise WirelabError(str(exc)) from None
        except Exception as exc:
            raise WirelabError(f"{name}: {type(exc).__name__}: {exc}") from None
    return results


def summary_on_dask(client, files: list[str], display_path: str, fp, decode_as=None,
                    sidecar=None, summaries: bool = False, progress: bool = False) -> dict:
    """Write the `summary --json` object of `files` (merged as analyzer.sources.merged does)
    to fp.  Returns {"partitions", "workers", "dashboard"}."""
    for path in files:                      # a bad file: one line naming it, before any work
        open_capture(path).close()
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    parts = 2 * workers
    futures = [client.submit(file_pass, p, parts, pure=False, retries=RETRIES) for p in files]
    if progress:
        _stderr_progress(futures)
    results = _gather(client, futures, files)
    order, tables = plan(results, parts)
    ordered = [files[k] for k in order]
    futures = [client.submit(analyze_partition, ordered, t, decode_as, sidecar, display_path,
                             summaries, pure=False, retries=RETRIES) for t in tables]
    if progress:
        _stderr_progress(futures)
    done = _gather(client, futures, [f"partition {i}" for i in range(parts)])
    source_warnings = [w if len(files) == 1 else f"{_name(files[k])}: {w}"
                       for k in order for w in results[k]["warnings"]]
    head = {"file": display_path,
            "packets": sum(len(r["ts"]) // 8 for r in results),
            "loopback_duplicates": sum(d["loopback_duplicates"] for d in done),
            "warnings": source_warnings + merged_engine_warnings([d["warnings"] for d in done])}
    write_merged_summary(fp, head, [d["lines"] for d in done])
    return {"partitions": parts, "workers": workers, "dashboard": client.dashboard_link,
            "warnings": head["warnings"]}


def _name(path: str) -> str:
    import os
    return os.path.basename(path)
