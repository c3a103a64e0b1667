"""Sphinx fixes for the book, loaded through ``sphinx.local_extensions`` in ``_config.yml``.

Sphinx 7.4 writes an inline script twice when an extension registers it after the builder
started (sphinx-thebe does, sphinx-togglebutton too): once as given (no file name) and once
re-read from the registry with an empty file name, which Sphinx does not see as the same script.
The second ``const THEBE_JS_URL = ...`` then throws "Identifier 'THEBE_JS_URL' has already been
declared" in the browser console on every page. :func:`drop_duplicate_scripts` keeps the first
of each script. (tests/test_browser.py fails on any console error.)
"""

from __future__ import annotations


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        key = (getattr(script, "filename", script) or "", *sorted(attributes.items()))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    # after every other html-page-context handler that might add scripts
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
