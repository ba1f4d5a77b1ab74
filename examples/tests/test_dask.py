"""Data that travels between processes: ``multiprocessing`` pools (fork and spawn) and a
``dask.distributed`` ``LocalCluster`` with two worker processes on loopback, moving example
objects whose memory goes out of band (pickle protocol 5)."""

import multiprocessing as mp
import operator
import pickle

import numpy as np
import pytest

import buffer_examples as bx

MiB = 1 << 20


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_pool_moves_objects(method):
    objs = [bx.IntMatrix(256, 256, list(range(256 * 256))), bx.owned_range(1000, (10, 100)), bx.IntArray([1, 2, 3])]
    ctx = mp.get_context(method)
    with ctx.Pool(2) as pool:
        sums = pool.map(bx.sum_array, [objs[0], objs[2]], chunksize=1)
        back = pool.map(pickle.loads, [pickle.dumps(o, protocol=5) for o in objs], chunksize=1)
        g = pool.apply(operator.methodcaller("sum"), (bx.GrowableArray([0.5] * 1000),))
    assert sums == [sum(range(256 * 256)), 6]
    for a, b in zip(objs, back):
        assert type(a) is type(b) and bytes(memoryview(a)) == bytes(memoryview(b))
    assert g == 500.0


distributed = pytest.importorskip("distributed")


def test_serialize_ships_the_data_as_its_own_frame():
    from distributed.protocol import deserialize, serialize

    m = bx.IntMatrix(1024, 1024)  # 4 MiB
    np.asarray(m)[:] = np.arange(1024 * 1024, dtype=np.int32).reshape(1024, 1024)
    header, frames = serialize(m)
    assert header["serializer"] == "pickle"
    sizes = sorted(memoryview(f).nbytes for f in frames)
    assert sizes[-1] == 4 * MiB and sum(sizes[:-1]) < 1024  # the pickle bytes are tiny
    data = next(f for f in frames if memoryview(f).nbytes == 4 * MiB)
    # Zero-copy dumps: the frame is the matrix's own memory.
    assert np.frombuffer(data, np.uint8).__array_interface__["data"][0] == np.asarray(m).__array_interface__["data"][0]
    back = deserialize(header, [bytearray(f) if memoryview(f).nbytes == 4 * MiB else f for f in frames])
    assert (np.asarray(back) == np.asarray(m)).all()


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
        silence_logs=40,
    )
    c = Client(cluster, timeout="60s")
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def test_dask_scatter_and_compute_on_a_worker(client):
    n = 16 * MiB  # int32: 64 MiB
    rows = 4096
    m = bx.IntMatrix(rows, n // rows)
    np.asarray(m)[:] = 1
    np.asarray(m)[0, :10] = np.arange(10)
    [fut] = client.scatter([m], broadcast=False)
    total = client.submit(bx.sum_array, fut).result(timeout=120)
    assert total == n - 10 + sum(range(10))
    owned = client.scatter(bx.owned_range(MiB, (1024, 1024)))
    assert client.submit(bx.sum_array, client.scatter(bx.IntArray([1, 2, 3]))).result(timeout=60) == 6
    back = client.submit(lambda x: x, owned).result(timeout=60)
    assert type(back) is bx.OwnedBuffer and np.asarray(back).shape == (1024, 1024)
    assert (np.asarray(back).ravel() == np.arange(MiB)).all()
    g = client.submit(operator.methodcaller("sum"), client.scatter(bx.GrowableArray([0.25] * 400))).result(timeout=60)
    assert g == 100.0
