"""One Dask LocalCluster of 2 worker processes for the whole folder."""
from __future__ import annotations

import pytest

from analyzer.distributed.run import dask_client


@pytest.fixture(scope="session")
def client():
    with dask_client("local:2") as c:
        yield c
