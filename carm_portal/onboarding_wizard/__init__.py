"""The importer's self-service onboarding wizard under ``/onboarding/`` (issue 7): ``views.py`` the
pages, ``steps.py`` what each step's answers do to the records (securities, BAMs, people,
delegations, the checklist), ``forms/`` one form per step, ``urls.py`` the routes.

Top layer: it writes clients, delegation and payments records through their functions, and no app
imports it. The templates keep their names under ``templates/clients/wizard/``.
"""
