"""The services pages: public (no login), the staff pipeline and webinars, one module each."""
