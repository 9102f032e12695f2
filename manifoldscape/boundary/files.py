"""Array files read safely: ``.npy`` and ``.npz`` headers first, then only the data they promise.

``numpy.load`` trusts its file: a ``.npz`` of 2 MB may inflate to gigabytes before anything
checks a shape, and a ``scipy.sparse`` file whose index arrays point outside the matrix makes
scipy read and write out of bounds.  Here, before a byte of data is read:

* the ``.npy`` magic and header of every array are parsed (``ast.literal_eval`` of a bounded
  header), its dtype must be numeric (or a byte/unicode string, as scipy stores the sparse
  format), never an object dtype (pickled data is refused, not unpickled);
* the size the header promises (shape × item size) is checked against the file itself (a
  truncated ``.npy``, a zip member whose stored size disagrees) and against a limit:
  ``MANIFOLDSCAPE_MAX_ARRAY_BYTES`` (default 2 GiB for all the arrays of one file; an argument
  ``max_bytes`` overrides it) and the memory available (``budgets.require_memory``);
* then exactly that many bytes are read into a preallocated array;
* a ``scipy.sparse.save_npz`` file (csr, csc or coo) has its shape, index pointer and indices
  checked — lengths, monotonicity, every index inside the shape — before scipy sees them.

Every refusal is an ``ArrayFileError`` (a ``ValueError``) whose message starts with ``what``
(for example ``"--param A"``) and names the file.
"""

from __future__ import annotations

import ast
import os
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from manifoldscape.boundary.budgets import ResourceLimitError, format_bytes, require_memory

__all__ = [
    "DEFAULT_MAX_ARRAY_BYTES",
    "ENV_MAX_ARRAY_BYTES",
    "ArrayFileError",
    "ArrayHeader",
    "load_array_file",
    "load_arrays",
    "max_array_bytes",
    "read_headers",
]

DEFAULT_MAX_ARRAY_BYTES = 2 << 30
ENV_MAX_ARRAY_BYTES = "MANIFOLDSCAPE_MAX_ARRAY_BYTES"
_MAGIC = b"\x93NUMPY"
_MAX_HEADER = 65536
_MAX_MEMBERS = 64
_MAX_DIMENSIONS = 32
_CHUNK = 1 << 22
_KINDS = "biufcSU"
_SPARSE_FORMATS = ("csr", "csc", "coo")


class ArrayFileError(ValueError):
    """An array file that is refused: unreadable, not an array file, too large, inconsistent."""


@dataclass(frozen=True)
class ArrayHeader:
    """What a ``.npy`` header promises: shape, dtype, memory order and data size in bytes."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    nbytes: int
    header_bytes: int


def max_array_bytes() -> int:
    """The size limit for the arrays of one file (``MANIFOLDSCAPE_MAX_ARRAY_BYTES``)."""
    text = os.environ.get(ENV_MAX_ARRAY_BYTES)
    if text is None or not text.strip():
        return DEFAULT_MAX_ARRAY_BYTES
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ArrayFileError(f"{ENV_MAX_ARRAY_BYTES} must be a positive integer, got {text!r}")
    return value


def _read_exactly(handle: IO[bytes], count: int, where: str, part: str) -> bytes:
    data = handle.read(count)
    if len(data) != count:
        raise ArrayFileError(f"{where}: the file ends inside the {part}")
    return data


def _parse_header(handle: IO[bytes], where: str) -> ArrayHeader:
    """Read and check one ``.npy`` header from ``handle`` (positioned at its start)."""
    magic = handle.read(len(_MAGIC))
    if magic != _MAGIC:
        raise ArrayFileError(
            f"{where} is not a NumPy .npy file (it does not start with the .npy magic bytes)"
        )
    major, minor = _read_exactly(handle, 2, where, "version")
    if (major, minor) not in ((1, 0), (2, 0), (3, 0)):
        raise ArrayFileError(f"{where}: unknown .npy format version {major}.{minor}")
    size_bytes = 2 if major == 1 else 4
    (length,) = struct.unpack(
        "<H" if major == 1 else "<I", _read_exactly(handle, size_bytes, where, "header")
    )
    if length > _MAX_HEADER:
        raise ArrayFileError(f"{where}: a .npy header of {length} bytes (at most {_MAX_HEADER})")
    raw = _read_exactly(handle, length, where, "header")
    try:
        text = raw.decode("utf8" if major == 3 else "latin1")
        header = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, UnicodeError):
        raise ArrayFileError(f"{where}: the .npy header is not readable") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ArrayFileError(f"{where}: the .npy header does not describe an array")
    shape, fortran_order, descr = header["shape"], header["fortran_order"], header["descr"]
    if (
        not isinstance(shape, tuple)
        or len(shape) > _MAX_DIMENSIONS
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)
    ):
        raise ArrayFileError(f"{where}: the .npy header holds an invalid shape {shape!r}")
    if not isinstance(fortran_order, bool):
        raise ArrayFileError(f"{where}: the .npy header holds an invalid order {fortran_order!r}")
    try:
        dtype = np.lib.format.descr_to_dtype(descr)
    except Exception:
        raise ArrayFileError(f"{where}: the .npy header holds an invalid dtype {descr!r}") from None
    if dtype.hasobject:
        raise ArrayFileError(
            f"{where} holds Python objects (pickled data), which are never loaded; save a numeric "
            "array instead"
        )
    if dtype.kind not in _KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ArrayFileError(f"{where}: dtype {dtype} is not a numeric array type")
    count = 1
    for extent in shape:
        count *= extent
    return ArrayHeader(
        tuple(shape), dtype, fortran_order, count * dtype.itemsize, size_bytes + 8 + length
    )


def _read_data(handle: IO[bytes], header: ArrayHeader, where: str) -> np.ndarray:
    """Exactly the data the header promises, read into a preallocated array."""
    count = header.nbytes // header.dtype.itemsize if header.dtype.itemsize else 0
    array = np.empty(count, dtype=header.dtype)
    view = memoryview(array.view(np.uint8).reshape(-1)) if header.nbytes else memoryview(b"")
    filled = 0
    while filled < header.nbytes:
        chunk = handle.read(min(_CHUNK, header.nbytes - filled))
        if not chunk:
            raise ArrayFileError(
                f"{where} is truncated: its header promises {header.nbytes} bytes of data, the "
                f"file holds {filled}"
            )
        view[filled : filled + len(chunk)] = chunk
        filled += len(chunk)
    order = "F" if header.fortran_order else "C"
    return array.reshape(header.shape, order=order)


def _check_total(total: int, path: Path, what: str, max_bytes: int | None) -> None:
    limit = max_array_bytes() if max_bytes is None else int(max_bytes)
    if total > limit:
        source = "the limit" if max_bytes is not None else f"{ENV_MAX_ARRAY_BYTES}"
        raise ArrayFileError(
            f"{what}: {str(path)!r} holds {total} bytes of array data ({format_bytes(total)}), "
            f"more than {source} of {limit} bytes ({format_bytes(limit)}); set "
            f"{ENV_MAX_ARRAY_BYTES} to raise it"
        )
    try:
        require_memory(total, f"{what}: {str(path)!r}")
    except ResourceLimitError as exc:
        raise ArrayFileError(str(exc)) from None


def _open_zip(path: Path, what: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise ArrayFileError(
            f"{what}: {str(path)!r} is not a NumPy .npz file (not a readable zip archive)"
        ) from None


def _members(archive: zipfile.ZipFile, path: Path, what: str) -> list[zipfile.ZipInfo]:
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > _MAX_MEMBERS:
        raise ArrayFileError(
            f"{what}: {str(path)!r} holds {len(members)} members (at most {_MAX_MEMBERS})"
        )
    names = [info.filename for info in members]
    if len(set(names)) != len(names):
        raise ArrayFileError(f"{what}: {str(path)!r} holds two members of the same name")
    for info in members:
        if not info.filename.endswith(".npy"):
            raise ArrayFileError(f"{what}: {str(path)!r} holds {info.filename!r}, not a .npy array")
    return members


_READ_ERRORS = (
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    struct.error,
    OverflowError,
)


def read_headers(path: str | Path, what: str = "array file") -> dict[str, ArrayHeader]:
    """The header of every array in a ``.npy`` (key ``""``) or ``.npz`` file; no data is read."""
    path = _existing(path, what)
    try:
        if path.suffix == ".npy":
            with path.open("rb") as handle:
                return {"": _parse_header(handle, f"{what}: {str(path)!r}")}
        with _open_zip(path, what) as archive:
            out = {}
            for info in _members(archive, path, what):
                where = f"{what}: {info.filename} in {str(path)!r}"
                with archive.open(info) as member:
                    out[info.filename[:-4]] = _parse_header(member, where)
            return out
    except ArrayFileError:
        raise
    except _READ_ERRORS as exc:
        raise ArrayFileError(f"{what}: cannot read {str(path)!r}: {_one_line(exc)}") from None


def _existing(path: str | Path, what: str) -> Path:
    path = Path(path)
    if path.suffix not in (".npy", ".npz"):
        raise ArrayFileError(
            f"{what}: expected an array file ending in .npy or .npz, got {str(path)!r}"
        )
    if not path.exists():
        raise ArrayFileError(f"{what}: no such file {str(path)!r}")
    if not path.is_file():
        raise ArrayFileError(f"{what}: {str(path)!r} is not a regular file")
    return path


def load_arrays(
    path: str | Path, what: str = "array file", *, max_bytes: int | None = None
) -> dict[str, np.ndarray]:
    """Every array of a ``.npy`` (key ``""``) or ``.npz`` file, checked as the module says."""
    path = _existing(path, what)
    try:
        if path.suffix == ".npy":
            where = f"{what}: {str(path)!r}"
            with path.open("rb") as handle:
                header = _parse_header(handle, where)
                available = path.stat().st_size - header.header_bytes
                if available < header.nbytes:
                    raise ArrayFileError(
                        f"{where} is truncated: its header promises {header.nbytes} bytes of "
                        f"data, the file holds {max(available, 0)}"
                    )
                _check_total(header.nbytes, path, what, max_bytes)
                return {"": _read_data(handle, header, where)}
        with _open_zip(path, what) as archive:
            members = _members(archive, path, what)
            headers = {}
            for info in members:
                where = f"{what}: {info.filename} in {str(path)!r}"
                with archive.open(info) as member:
                    header = _parse_header(member, where)
                if info.file_size != header.header_bytes + header.nbytes:
                    raise ArrayFileError(
                        f"{where}: the archive says the member holds {info.file_size} bytes, its "
                        f"header promises {header.header_bytes + header.nbytes}"
                    )
                headers[info.filename] = header
            _check_total(sum(h.nbytes for h in headers.values()), path, what, max_bytes)
            out = {}
            for info in members:
                where = f"{what}: {info.filename} in {str(path)!r}"
                with archive.open(info) as member:
                    header = _parse_header(member, where)
                    out[info.filename[:-4]] = _read_data(member, header, where)
            return out
    except ArrayFileError:
        raise
    except MemoryError:
        raise ArrayFileError(f"{what}: {str(path)!r} does not fit in memory") from None
    except _READ_ERRORS as exc:
        raise ArrayFileError(f"{what}: cannot read {str(path)!r}: {_one_line(exc)}") from None


def load_array_file(
    path: str | Path, what: str = "array file", *, max_bytes: int | None = None
) -> Any:
    """The array of a ``.npy`` file, of a one-array ``.npz``, or a checked ``scipy.sparse`` file.

    A sparse file (``scipy.sparse.save_npz``: csr, csc or coo) comes back as a
    ``scipy.sparse`` matrix of that format; a dense array must be numeric.
    """
    arrays = load_arrays(path, what, max_bytes=max_bytes)
    if {"format", "shape", "data"} <= set(arrays):
        return _sparse(arrays, Path(path), what)
    if len(arrays) != 1:
        raise ArrayFileError(f"{what}: {str(path)!r} holds {len(arrays)} arrays, expected one")
    (array,) = arrays.values()
    if array.dtype.kind not in "biufc":
        raise ArrayFileError(f"{what}: {str(path)!r} holds {array.dtype} data, not numbers")
    return array


def _integer_vector(arrays: Mapping[str, np.ndarray], key: str, where: str) -> np.ndarray:
    array = arrays.get(key)
    if array is None:
        raise ArrayFileError(f"{where}: the sparse matrix lacks its {key!r} array")
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ArrayFileError(
            f"{where}: {key!r} must be a 1-D integer array, got {array.dtype} of shape "
            f"{array.shape}"
        )
    return array.astype(np.int64, copy=False)


def _sparse(arrays: Mapping[str, np.ndarray], path: Path, what: str) -> Any:
    """A scipy.sparse matrix from the arrays of a ``save_npz`` file, every index checked first."""
    where = f"{what}: {str(path)!r}"
    raw_format = arrays["format"]
    try:
        name = raw_format.item()
        name = name.decode("ascii") if isinstance(name, bytes) else str(name)
    except (ValueError, UnicodeError):
        raise ArrayFileError(f"{where}: unreadable sparse format") from None
    if name not in _SPARSE_FORMATS:
        raise ArrayFileError(
            f"{where}: sparse format {name!r} is not read (only {', '.join(_SPARSE_FORMATS)})"
        )
    shape = arrays["shape"]
    if shape.shape != (2,) or shape.dtype.kind not in "iu" or np.any(shape < 0):
        raise ArrayFileError(f"{where}: the sparse shape must be two non-negative integers")
    rows, cols = (int(s) for s in shape)
    data = arrays["data"]
    if data.ndim != 1 or data.dtype.kind not in "biufc":
        raise ArrayFileError(f"{where}: the sparse data must be a 1-D numeric array")
    nnz = data.shape[0]
    import scipy.sparse

    if name in ("csr", "csc"):
        major, minor = (rows, cols) if name == "csr" else (cols, rows)
        indptr = _integer_vector(arrays, "indptr", where)
        indices = _integer_vector(arrays, "indices", where)
        if indptr.shape[0] != major + 1:
            raise ArrayFileError(
                f"{where}: indptr has {indptr.shape[0]} entries, expected {major + 1}"
            )
        if indptr[0] != 0 or indptr[-1] != nnz or np.any(np.diff(indptr) < 0):
            raise ArrayFileError(
                f"{where}: indptr must rise from 0 to the {nnz} stored entries, never falling"
            )
        if indices.shape[0] != nnz:
            raise ArrayFileError(f"{where}: indices has {indices.shape[0]} entries, data has {nnz}")
        if nnz and (indices.min() < 0 or indices.max() >= minor):
            raise ArrayFileError(
                f"{where}: indices must lie in [0, {minor}) for a {rows} × {cols} matrix, got "
                f"values from {indices.min()} to {indices.max()}"
            )
        kind = scipy.sparse.csr_matrix if name == "csr" else scipy.sparse.csc_matrix
        return kind((data, indices, indptr), shape=(rows, cols))
    if "coords" in arrays:
        coords = arrays["coords"]
        if coords.ndim != 2 or coords.shape[0] != 2 or coords.dtype.kind not in "iu":
            raise ArrayFileError(f"{where}: coords must be a 2 × nnz integer array")
        row, col = coords.astype(np.int64)
    else:
        row = _integer_vector(arrays, "row", where)
        col = _integer_vector(arrays, "col", where)
    if row.shape[0] != nnz or col.shape[0] != nnz:
        raise ArrayFileError(f"{where}: row and col must have as many entries as data ({nnz})")
    for label, index, extent in (("row", row, rows), ("col", col, cols)):
        if nnz and (index.min() < 0 or index.max() >= extent):
            raise ArrayFileError(
                f"{where}: {label} indices must lie in [0, {extent}) for a {rows} × {cols} "
                f"matrix, got values from {index.min()} to {index.max()}"
            )
    return scipy.sparse.coo_matrix((data, (row, col)), shape=(rows, cols))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
