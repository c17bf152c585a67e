"""The broker's services around CARM, and the compliance work after release.

What the broker sells (interest sign-ups, webinars, walk-throughs, SOA retrieval, bond applications,
help requests and their fees) and what it does for importers after goods are released (corrections
and their 90-day clock, late accounting, documents kept for their retention period, readiness checks,
training). It sits above the four domain apps: it calls them, they never call it.
"""
