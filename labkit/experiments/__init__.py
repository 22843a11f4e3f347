"""Commands that compute the heavier results the labs load (``python -m labkit.experiments.<name>``)."""
