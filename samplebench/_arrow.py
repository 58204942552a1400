"""Arrow columns as numpy arrays, read from their buffers.

pyarrow's own conversions (`Array.to_numpy`, `np.asarray(array)`) import pandas on first use
(~0.2-0.3 s of a fresh process, pyarrow 26), although no pandas object is involved: for a
command that reads a Parquet file and ranks, that import was most of its start-up. An integer or
floating-point column needs none of it: its values are one contiguous buffer.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def _dtype(t: pa.DataType) -> np.dtype | None:
    if pa.types.is_integer(t):
        return np.dtype(f"{'i' if pa.types.is_signed_integer(t) else 'u'}{t.bit_width // 8}")
    if pa.types.is_floating(t):
        return np.dtype(f"f{t.bit_width // 8}")
    return None


def numpy_values(arr: pa.Array | pa.ChunkedArray, null=None) -> np.ndarray:
    """The values of an integer or floating-point Arrow (chunked) array as a numpy array: a
    read-only view of the data buffer for one chunk, one copy to join several. Null slots hold
    `null` (default NaN for floating point; an integer column with nulls needs one). Other types
    go through `to_numpy`."""
    if isinstance(arr, pa.ChunkedArray):
        dtype = _dtype(arr.type)
        if arr.num_chunks == 1:
            return numpy_values(arr.chunk(0), null)
        parts = [numpy_values(c, null) for c in arr.chunks]
        if not parts:
            return np.zeros(0, dtype if dtype is not None else np.float64)
        return np.concatenate(parts)
    dtype = _dtype(arr.type)
    if dtype is None:
        return arr.to_numpy(zero_copy_only=False)
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype)
    out = np.frombuffer(arr.buffers()[1], dtype=dtype, count=n, offset=arr.offset * dtype.itemsize)
    if arr.null_count:
        if null is None:
            if dtype.kind != "f":
                raise ValueError("an integer column with nulls needs a value for them")
            null = np.nan
        bits = np.unpackbits(np.frombuffer(arr.buffers()[0], np.uint8), bitorder="little")
        out = out.copy()
        out[~bits[arr.offset:arr.offset + n].astype(bool)] = null
    return out
