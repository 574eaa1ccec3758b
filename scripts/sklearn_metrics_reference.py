"""Reference values for crates/dlkit-train/tests/metrics.rs, from scikit-learn.

Run by hand (pip install scikit-learn); the printed numbers are pasted into the tests.
Checked with scikit-learn 1.9.1.
"""
import warnings

import sklearn
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)

warnings.simplefilter("ignore")  # zero_division warnings are expected below
print("scikit-learn", sklearn.__version__)

# Binary, positive class 1 and then 0.
yt = [1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1]
yp = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0]
print("binary accuracy", repr(accuracy_score(yt, yp)))
for pos in (1, 0):
    p = precision_score(yt, yp, pos_label=pos, zero_division=0)
    r = recall_score(yt, yp, pos_label=pos, zero_division=0)
    f = f1_score(yt, yp, pos_label=pos, zero_division=0)
    print(f"binary pos={pos}", repr(p), repr(r), repr(f))
print("binary confusion", confusion_matrix(yt, yp).tolist())

# Binary, the positive class never predicted.
yt = [1, 0, 1, 0]
yp = [0, 0, 0, 0]
print(
    "never predicted",
    repr(precision_score(yt, yp, zero_division=0)),
    repr(recall_score(yt, yp, zero_division=0)),
    repr(f1_score(yt, yp, zero_division=0)),
)

# Multi-class, macro average: class 1 is never predicted (precision 0/0) and class 4 is
# predicted once but never true (recall 0/0).
yt = [0, 1, 2, 2, 2, 0, 1, 3, 3, 0, 1, 2, 3]
yp = [0, 2, 2, 2, 2, 0, 0, 3, 4, 0, 0, 0, 3]
print("multi accuracy", repr(accuracy_score(yt, yp)))
print(
    "multi macro",
    repr(precision_score(yt, yp, average="macro", zero_division=0)),
    repr(recall_score(yt, yp, average="macro", zero_division=0)),
    repr(f1_score(yt, yp, average="macro", zero_division=0)),
)
for name, fn in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
    print(f"multi per-class {name}", [repr(float(v)) for v in fn(yt, yp, average=None, zero_division=0)])
print("multi confusion", confusion_matrix(yt, yp).tolist())
