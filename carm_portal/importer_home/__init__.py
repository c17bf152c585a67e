"""The importer's home page: one card per importer a person belongs to, gathering clients,
delegation, statements and payments (``cards.py`` reads, ``views.py`` renders).

Top layer: it reads every domain app, and no app imports it.
"""
