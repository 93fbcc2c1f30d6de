"""A user's CSV as a table to learn from: checked, capped, and explained when it cannot be used.

    columns = csv_columns(data)                       # the header, to pick the label column
    table = read_csv_table(data, label_column="diagnosis", missing="median")
    table.X, table.y, table.feature_names, table.class_names, table.notes

Every refusal is a TableError whose message says what is wrong and what to do; nothing else escapes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

MAX_BYTES = 20 * 1024 * 1024  # 20 MB
MAX_ROWS = 100_000
MAX_COLUMNS = 500
MIN_CLASSES, MAX_CLASSES = 2, 20
MIN_ROWS_PER_CLASS = 5  # a class must reach both sides of a stratified train/test split
Missing = Literal["drop", "median"]


class TableError(ValueError):
    """The file cannot be used as a table (the message says why, in words meant for the person)."""


@dataclass(frozen=True)
class Table:
    """Numeric features X [N, F] (NaN where a value is missing), integer labels y [N], their names."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    class_names: list[str]
    notes: list[str] = field(default_factory=list)  # what was dropped or filled, for the page to show


def _text(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise TableError(
            f"The file is {len(data) / 1e6:.1f} MB; VAE Lab reads CSV files of at most {MAX_BYTES // 2**20} MB."
        )
    if not data.strip():
        raise TableError("The file is empty.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError(
            "The file is not UTF-8 text. Save it as 'CSV UTF-8' (Excel) or re-encode it to UTF-8, then upload it again."
        ) from None


def csv_columns(data: bytes) -> list[str]:
    """The header's column names, checked against the caps before the body is parsed."""
    text = _text(data)
    first_line = text.split("\n", 1)[0]
    try:
        header = next(csv.reader([first_line]))
    except (csv.Error, StopIteration):
        raise TableError("The first line is not a CSV header.") from None
    if len(header) > MAX_COLUMNS + 1:
        raise TableError(f"The file has {len(header):,} columns; VAE Lab reads at most {MAX_COLUMNS} feature columns.")
    if len(header) < 2:
        raise TableError("A table needs at least two columns (one or more features and a label), separated by commas.")
    names = [h.strip() for h in header]
    if len(set(names)) != len(names):
        raise TableError("Two columns have the same name; give every column a different name.")
    return names


def read_csv_table(data: bytes, label_column: str, missing: Missing = "drop") -> Table:
    """Parse a CSV → numeric features and a label column of 2–20 classes.

    Non-numeric feature columns are dropped (with a note). Rows without a label are dropped. Missing or
    non-finite feature values: `missing="drop"` drops those rows; `"median"` keeps them as NaN, and the
    model fills them with the training split's medians.
    """
    import pandas as pd

    columns = csv_columns(data)
    if label_column not in columns:
        raise TableError(f"There is no column called {label_column!r}; the columns are {', '.join(columns[:10])}…")
    if missing not in ("drop", "median"):
        raise TableError(f"missing must be 'drop' or 'median', got {missing!r}")
    try:
        frame = pd.read_csv(io.StringIO(_text(data)), nrows=MAX_ROWS + 1, skipinitialspace=True)
    except (pd.errors.ParserError, ValueError) as err:
        raise TableError(f"The file could not be read as CSV: {str(err).strip().splitlines()[0]}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise TableError("The file has a header but no rows.")
    if len(frame) > MAX_ROWS:
        raise TableError(f"The file has more than {MAX_ROWS:,} rows; VAE Lab reads at most {MAX_ROWS:,}.")
    notes: list[str] = []

    labels = frame.pop(label_column)
    unlabelled = labels.isna().to_numpy()
    if unlabelled.any():
        notes.append(f"{int(unlabelled.sum())} rows without a label were dropped.")
        frame, labels = frame[~unlabelled], labels[~unlabelled]

    numeric = frame.apply(pd.to_numeric, errors="coerce")
    text_columns = [c for c in frame.columns if numeric[c].isna().all() and frame[c].notna().any()]
    mixed = [c for c in frame.columns if c not in text_columns and (numeric[c].isna() & frame[c].notna()).any()]
    if text_columns:
        notes.append(f"Non-numeric columns dropped: {', '.join(text_columns)}.")
    if mixed:
        notes.append(f"Text values in numeric columns were treated as missing: {', '.join(mixed)}.")
    numeric = numeric.drop(columns=text_columns)
    empty = [c for c in numeric.columns if numeric[c].isna().all()]
    if empty:
        notes.append(f"Empty columns dropped: {', '.join(empty)}.")
        numeric = numeric.drop(columns=empty)
    if numeric.shape[1] == 0:
        raise TableError("No numeric feature columns are left besides the label; a table needs at least one.")

    X = numeric.to_numpy(dtype=np.float64, copy=True)
    X[~np.isfinite(X)] = np.nan
    gaps = np.isnan(X).any(axis=1)
    if gaps.any():
        if missing == "drop":
            notes.append(f"{int(gaps.sum())} rows with missing values were dropped.")
            X, labels = X[~gaps], labels[~gaps]
        else:
            notes.append(f"{int(np.isnan(X).sum())} missing values will be filled with the training medians.")
    if len(X) == 0:
        raise TableError("No rows are left after dropping the incomplete ones; choose to fill missing values instead.")

    class_values = sorted(labels.astype(str).unique())
    if not MIN_CLASSES <= len(class_values) <= MAX_CLASSES:
        raise TableError(
            f"The label column {label_column!r} has {len(class_values)} different values; a classifier needs "
            f"between {MIN_CLASSES} and {MAX_CLASSES} classes. Is it the right column?"
        )
    y = np.searchsorted(class_values, labels.astype(str).to_numpy()).astype(np.int64)
    counts = np.bincount(y, minlength=len(class_values))
    if counts.min() < MIN_ROWS_PER_CLASS:
        rare = [class_values[i] for i in np.flatnonzero(counts < MIN_ROWS_PER_CLASS)]
        raise TableError(
            f"Every class needs at least {MIN_ROWS_PER_CLASS} rows to be split into training and test rows; "
            f"too few for: {', '.join(rare[:5])}."
        )
    return Table(X.astype(np.float32), y, [str(c) for c in numeric.columns], class_values, notes)
