"""Tables a data scientist might bring, made messy on purpose: text labels and features with
nulls and `NA`, numbers with missing values, booleans, dates, an id, a rare class. Deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ISLANDS = ["Biscoe", "Dream", "Torgersen"]


def penguins(rows: int = 900, seed: int = 0) -> pd.DataFrame:
    """A species (three classes, one rare) a tree can learn from bill, island and flipper; with
    missing values of every kind, a date, an id and a label missing in a few rows."""
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Gentoo", "Chinstrap"], rows, p=[0.55, 0.4, 0.05])
    base = {"Adelie": 38.8, "Gentoo": 47.5, "Chinstrap": 48.8}
    bill = np.array([base[s] for s in species]) + rng.normal(0, 1.2, rows)
    flipper = np.where(species == "Gentoo", 217.0, 191.0) + rng.normal(0, 5, rows)
    island = np.where(species == "Gentoo", "Biscoe", rng.choice(ISLANDS, rows))
    frame = pd.DataFrame(
        {
            "id": [f"P{i:05d}" for i in range(rows)],  # one value per row: left out
            "species": species,
            "island": island,
            "bill_length_mm": bill.round(1),
            "flipper_length_mm": flipper.round(0),
            "tagged": rng.random(rows) < 0.5,
            "seen": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), "D"),
            "colony": "north",  # one value: left out
        }
    )
    frame["seen"] = frame["seen"].dt.date
    frame.loc[rng.random(rows) < 0.08, "bill_length_mm"] = np.nan
    frame.loc[rng.random(rows) < 0.05, "island"] = None
    frame.loc[rng.random(rows) < 0.02, "species"] = None  # rows without a label: dropped
    return frame


def write_csv(frame: pd.DataFrame, path: Path, sep: str = ",") -> Path:
    """CSV as R or Excel exports it: `NA` for every missing value (gzipped for .gz)."""
    frame.to_csv(path, sep=sep, index=False, na_rep="NA")
    return path


def houses(rows: int = 800, seed: int = 1) -> pd.DataFrame:
    """A price (regression) from area, rooms and a district, with missing areas."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(30, 200, rows)
    rooms = rng.integers(1, 6, rows)
    district = rng.choice(["centre", "harbour", "hills", "outskirts"], rows)
    bonus = pd.Series(district).map({"centre": 90, "harbour": 40, "hills": 20, "outskirts": 0})
    price = 2.0 * area + 15 * rooms + bonus.to_numpy() + rng.normal(0, 10, rows)
    frame = pd.DataFrame(
        {"area": area.round(1), "rooms": rooms, "district": district, "price": price.round(2)}
    )
    frame.loc[rng.random(rows) < 0.05, "area"] = np.nan
    return frame


def churn(rows: int = 800, seed: int = 2) -> pd.DataFrame:
    """A 0/1 label (binary classification) from tenure and plan."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 60, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows)
    risk = (tenure < 12).astype(float) * 0.6 + (plan == "basic") * 0.3
    churned = (rng.random(rows) < risk).astype(int)
    return pd.DataFrame({"tenure": tenure, "plan": plan, "churned": churned})
