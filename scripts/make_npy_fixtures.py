#!/usr/bin/env python3
"""NPY/NPZ and MAT fixtures for the readers of crate dlkit-data, written by NumPy (and SciPy
for the .mat files) themselves.

Run by hand from the repository root; the outputs are committed:

    python3 scripts/make_npy_fixtures.py    # writes crates/dlkit-data/tests/fixtures/*

Every numeric array holds a simple function of its row-major index i, so that the Rust tests
can state the expected values without a copy of them:
    f32_2x3.npy        float32 (2, 3)          i / 4
    f64_fortran.npy    float64 (3, 4), Fortran order: element (r, c) = 10 r + c
    i64_be.npy         big-endian int64 (5,)   (i - 2) * 1e12
    u8_4x2x2.npy       uint8 (4, 2, 2)         i * 16
    bool_3.npy         bool (3,)               [True, False, True]
    i16_f3d.npy        int16 (2, 3, 2), Fortran order: element (a, b, c) = 100 a + 10 b + c
    scalar.npy         float64 ()              2.5
    f16.npy, complex.npy, record.npy, object.npy: types the reader must refuse, by name
    arrays.npz         savez: x = f32_2x3's array, labels = int64 [0, 1, 1]
    arrays_compressed.npz   savez_compressed of the same
    savemat_v5.mat     scipy.io.savemat (uncompressed, little-endian): A double (2, 3)
                       10 r + c, B uint8 (1, 4) [1, 2, 3, 250], L logical (2, 1) [1, 0],
                       S int16 (2, 2) [[-3, 4], [5, -6]], C char 'hi' (unsupported)
    savemat_compressed.mat  the same with do_compression=True
"""

import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "dlkit-data",
                   "tests", "fixtures")


def main():
    os.makedirs(OUT, exist_ok=True)
    p = lambda name: os.path.join(OUT, name)
    f = (np.arange(6, dtype=np.float32) / 4).reshape(2, 3)
    np.save(p("f32_2x3.npy"), f)
    r, c = np.meshgrid(np.arange(3), np.arange(4), indexing="ij")
    np.save(p("f64_fortran.npy"), np.asfortranarray((10 * r + c).astype(np.float64)))
    np.save(p("i64_be.npy"), ((np.arange(5) - 2) * 10**12).astype(">i8"))
    np.save(p("u8_4x2x2.npy"), (np.arange(16) * 16).astype(np.uint8).reshape(4, 2, 2))
    np.save(p("bool_3.npy"), np.array([True, False, True]))
    a, b, cc = np.meshgrid(np.arange(2), np.arange(3), np.arange(2), indexing="ij")
    np.save(p("i16_f3d.npy"), np.asfortranarray((100 * a + 10 * b + cc).astype(np.int16)))
    np.save(p("scalar.npy"), np.float64(2.5))
    np.save(p("f16.npy"), np.ones(3, dtype=np.float16))
    np.save(p("complex.npy"), np.ones(2, dtype=np.complex64))
    np.save(p("record.npy"), np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]))
    np.save(p("object.npy"), np.array([1, "x"], dtype=object), allow_pickle=True)
    labels = np.array([0, 1, 1], dtype=np.int64)
    np.savez(p("arrays.npz"), x=f, labels=labels)
    np.savez_compressed(p("arrays_compressed.npz"), x=f, labels=labels)

    import scipy.io as sio
    mat = {
        "A": (10 * np.arange(2)[:, None] + np.arange(3)[None, :]).astype(np.float64),
        "B": np.array([[1, 2, 3, 250]], dtype=np.uint8),
        "L": np.array([[True], [False]]),
        "S": np.array([[-3, 4], [5, -6]], dtype=np.int16),
        "C": "hi",
    }
    sio.savemat(p("savemat_v5.mat"), mat, do_compression=False)
    sio.savemat(p("savemat_compressed.mat"), mat, do_compression=True)


if __name__ == "__main__":
    main()
