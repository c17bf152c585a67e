from services import admin_compliance  # noqa: F401  (the compliance records' admin)
