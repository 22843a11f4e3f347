"""Where the course's files live: the repository's folders, by name.

``assets/`` is checked in (trained checkpoints, recorded result tables); ``build/`` holds
what commands make and nobody ships (training runs); datasets are downloaded to a cache
in the home folder, outside the repository.
"""

from __future__ import annotations

from pathlib import Path

#: The repository root (the folder holding ``labkit/``).
ROOT = Path(__file__).resolve().parents[1]
#: Checked-in files the labs load.
ASSETS = ROOT / "assets"
#: Trained checkpoints (``<name>.pt``) and their JSON records.
MODELS = ASSETS / "models"
#: Recorded experiment tables (CSV) and their side JSON files.
RESULTS = ASSETS / "results"
#: The solution notebooks (nbgrader's source folder) and the student release made from them.
SOLUTIONS = ROOT / "solutions"
RELEASE = ROOT / "notebooks"
#: Outputs of commands that are not shipped (training runs).
BUILD = ROOT / "build"
#: Downloaded datasets (CIFAR-100, Oxford-IIIT Pet).
DATA_CACHE = Path.home() / ".cache" / "labkit" / "data"
