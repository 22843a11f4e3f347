"""JupyterLab for the class (`make lab`): opens on the course's landing page, no news or update pop-ups.

The folder served is notebooks/ (the student release); the front-end settings that go with it
(no news, Markdown files shown rendered) are in settings/overrides.json next to this file.
"""

from pathlib import Path

from jupyterlab.handlers.announcements import NeverCheckForUpdate

HERE = Path(__file__).resolve().parent

c = get_config()  # noqa: F821  (provided by Jupyter)

c.ServerApp.root_dir = str(HERE.parent / "notebooks")
# The landing page lists the labs in order; it opens rendered (see settings/overrides.json).
c.LabApp.default_url = "/lab/tree/README.md"
c.LabApp.app_settings_dir = str(HERE / "settings")
# Nothing is fetched from the internet: no news feed, no check for a newer JupyterLab.
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = NeverCheckForUpdate
