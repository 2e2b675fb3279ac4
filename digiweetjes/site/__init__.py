"""Publish: the static web archive of sent issues and the editors' live preview.

- ``archive``: ``build_site`` reads every sent issue once, renders the archive, the
  project-call overview and the feed, and swaps them into place whole;
- ``preview``: the ``digiweetjes preview`` server (desktop and phone side by side, reloading
  when a draft, projects.yaml or a template changes). Imported on its own: it needs Starlette.
"""

from digiweetjes.site.archive import BuildReport, build_site

__all__ = ["BuildReport", "build_site"]
