from tests.statements.conftest import accounts, media  # noqa: F401  (fixtures shared with statements)
