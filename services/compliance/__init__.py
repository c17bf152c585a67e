"""Compliance work after release (issue #18): corrections, late accounting, the daily check.

Plain, typed domain functions in modules named for what they do; the pages in
``services/compliance_views.py`` and the command and task call them.
"""
