"""Demo data for ``manage.py seed_demo``: the broker team and importers (``seed.py``), then each
domain app's own demo records (``delegation/demo.py``, ``statements/demo.py``, ``payments/demo.py``).

Top layer: it seeds every app, and no app imports it.
"""
